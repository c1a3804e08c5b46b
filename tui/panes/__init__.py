"""The app's panes, one per module. Each shows what its parent hands it and
posts messages for what the librarian asks; none reads the library itself."""
