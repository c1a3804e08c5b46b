"""Every refusal names its next step (``Refusal(…, next_step=…)``), so that
the command line prints the command to run: a scan of engine/ and cli/ for
each ``Refusal`` made (raised or kept to raise later) without one. The few
where no mislink command helps are listed below, each with why (the rule is
``engine.errors.NextStep``'s docstring); a new refusal without a next step
fails here until it gets one or a place on that list."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("engine", "cli")

# (file, words of the refusal as written in it): made without a next step, and why.
WITHOUT_NEXT_STEP = {
    # No command helps: the message names the file, setting or record to edit.
    ("engine/config.py", "no such configuration file; check the path"),
    ("engine/config.py", "not UTF-8 text"),
    ("engine/config.py", "cannot be read"),
    ("engine/config.py", "not valid TOML"),
    ("engine/config.py", "ConfigError(problems)"),  # each problem names its key (sync.max_recycle_share: …)
    ("engine/config.py", "unknown section"),
    ("engine/lock.py", "library.url must name"),
    ("engine/borrower_import.py", "cannot be read"),  # each names the import file, and the line at fault
    ("engine/borrower_import.py", "{path}: {problem}"),
    ("engine/borrower_import.py", "empty file"),
    ("engine/borrower_import.py", "missing column(s)"),
    ("engine/borrower_import.py", "not readable as CSV"),
    ("engine/feeds/xod.py", "source.max_age_hours"),  # the school's Xporter agent, or that setting
    ("engine/koha/setup.py", "library.kind: must be"),
    ("engine/koha/tables.py", "does not look like a Koha database"),
    ("engine/koha/tables.py", "koha.branchcode"),
    ("engine/koha/tables.py", "koha.{key}: category"),
    ("engine/koha/push.py", "cannot be added to Koha"),  # the Koha patron, in Koha
    ("engine/koha/push.py", "no free Koha userid"),
    ("engine/koha/push.py", "was not created by mislink"),
    ("engine/koha/push.py", "has loans or loan history in Koha"),
    ("engine/recycle_bin.py", "a Koha library has no recycle bin"),  # names where Koha keeps leavers
    # The same command again, later: the message says so.
    ("engine/lock.py", "LibraryBusy(BUSY)"),
    # The message spells the command itself.
    ("engine/config.py", "chmod 600"),
    ("engine/koha/tables.py", "run `mislink koha setup`"),
    ("cli/intake.py", "`mislink intake transfer --all-new`"),
    ("cli/intake.py", "_forced(args)"),  # NeedsForce below, as the command with --force
    ("engine/intake/decisions.py", "match with force"),
    ("engine/intake/decisions.py", "transfer with force"),
    # Never reaches a person as it is: the caller's mistake, or re-raised with a next step.
    ("engine/intake/decisions.py", "is not an Intake decision"),
    ("engine/intake/decisions.py", "this decision is about one Intake entry"),
    ("engine/intake/decisions.py", "name the borrower to match to"),
    ("engine/intake/decisions.py", "name the Intake entries to transfer"),
    ("engine/decisions.py", "UndoRefused(problems)"),  # engine.intake.undo says it, listing the decisions
    # Spelled by the command line by its class (cli.next_steps): `mislink --sync`.
    ("engine/db.py", "LibraryMissing("),
    # Waiting for a next step, in files this change did not edit (as the report on it says).
    ("engine/intake/decisions.py", "changed after it was shown"),  # SHOW_INTAKE: `mislink intake show ID`
    ("engine/intake/decisions.py", "nothing transferred: {exc}"),  # the barcode settings to edit
    ("engine/intake/decisions.py", "not {' or '.join(allowed)}"),  # LIST_INTAKE
    ("engine/intake/decisions.py", "so it cannot be"),  # a withdrawn entry: LIST_INTAKE
    ("engine/intake/decisions.py", "there is no borrower with barcode"),  # SEARCH_BORROWERS
    ("engine/intake/decisions.py", "is already linked to borrower"),  # several: SEARCH_BORROWERS
    ("engine/intake/queue.py", "its stored record cannot be read"),  # SYNC: `mislink --sync`
    ("engine/source.py", "there is no live feed to fetch"),  # SYNC: `mislink --sync` reads the folder
    ("engine/sync.py", "the settings changed since the preview"),  # PREVIEW: `mislink --sync --dry-run`
    ("engine/sync.py", "the export changed since the preview"),
    ("engine/sync.py", "the library changed since the preview"),
    ("cli/intake.py", "not both"),  # spell both: `mislink intake transfer ID…`, `… --all-new`
}


def _refusal_classes(trees: dict[str, ast.Module]) -> set[str]:
    """``Refusal`` and every class derived from it, by name."""
    names, grown = {"Refusal"}, True
    while grown:
        grown = False
        for tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names and any(
                        _name(base) in names for base in node.bases):
                    names.add(node.name)
                    grown = True
    return names


def _name(node: ast.expr) -> str | None:
    """``IntakeError`` for ``IntakeError`` and ``api.IntakeError``."""
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _may_be_none(node: ast.expr) -> bool:
    if isinstance(node, ast.IfExp):
        return _may_be_none(node.body) or _may_be_none(node.orelse)
    return isinstance(node, ast.Constant) and node.value is None


def without_next_step(root: Path = ROOT) -> list[tuple[str, int, str]]:
    """Each refusal made without a next step (or with one that may be None):
    its file, line and source."""
    trees = {path.relative_to(root).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
             for folder in SCANNED for path in sorted((root / folder).rglob("*.py"))}
    refusals = _refusal_classes(trees)
    found = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) in refusals:
                step = next((k.value for k in node.keywords if k.arg == "next_step"), None)
                if step is None or _may_be_none(step):
                    found.append((path, node.lineno, ast.unparse(node)))
    return found


def test_every_refusal_names_its_next_step_or_is_listed_with_why():
    found = without_next_step()
    unlisted = [f"{path}:{line}: {source}" for path, line, source in found
                if not any(path == listed and words in source for listed, words in WITHOUT_NEXT_STEP)]
    assert not unlisted, "give each a next_step=NextStep…, or list it in WITHOUT_NEXT_STEP with why"
    stale = [entry for entry in WITHOUT_NEXT_STEP if not any(path == entry[0] and entry[1] in source
                                                              for path, _, source in found)]
    assert not stale, "these have a next step now: drop them from WITHOUT_NEXT_STEP"


def test_the_scan_finds_a_refusal_without_a_next_step(tmp_path):
    """The scan itself: a new refusal with none, or with one that may be None, is found."""
    (tmp_path / "engine").mkdir()
    (tmp_path / "cli").mkdir()
    (tmp_path / "engine" / "new.py").write_text(
        "class IntakeError(Refusal): ...\n"
        "raise IntakeError('no next step')\n"
        "raise IntakeError('maybe none', next_step=NextStep.LIST_RUNS if x else None)\n"
        "raise IntakeError('named', next_step=NextStep.LIST_RUNS)\n")
    (tmp_path / "cli" / "new.py").write_text("refusal = api.IntakeError('from the command line')\n")
    assert [(path, line) for path, line, _ in without_next_step(tmp_path)] == [
        ("engine/new.py", 2), ("engine/new.py", 3), ("cli/new.py", 1)]
