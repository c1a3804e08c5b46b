"""Modal dialogs, one per module: each a ``ModalScreen`` that returns its
answer with ``dismiss``."""
