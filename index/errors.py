"""Named errors of the core. Each message tells the user what to do; the edges map them to exit codes."""


class VerbatimError(Exception):
    """Base class: a problem the user can fix, reported as one line without a traceback."""


class ModelNotFound(VerbatimError):
    pass


class ArticlesNotFound(VerbatimError):
    pass


class NoUsableArticles(VerbatimError):
    pass


class IndexNotFound(VerbatimError):
    pass


class IndexMismatch(VerbatimError):
    pass


class IndexCorrupt(VerbatimError):
    pass


class IndexWriteFailed(VerbatimError):
    pass


class ModelUnsupported(VerbatimError):
    pass


class ExportMismatch(VerbatimError):
    pass
