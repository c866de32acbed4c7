"""The docs are built and checked like code: the SAM template passes cfn-lint (and a broken one does not),
the API reference builds with pdoc with warnings as errors and every public name documented, and the
guides exist where the README points."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "examples" / "sam" / "template.yaml"


def _cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())", str(path)],
        capture_output=True, text=True, timeout=300, check=False,
    )


class _Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (``!Ref``, ``!Sub``, ...) read as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))  # type: ignore[arg-type]


def test_the_sam_template_passes_cfn_lint() -> None:
    lint = _cfn_lint(TEMPLATE)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_cfn_lint_catches_a_broken_durable_config(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(TEMPLATE.read_text().replace("ExecutionTimeout: !Ref ExecutionTimeoutSeconds",
                                                   'ExecutionTimeout: "a day"'))
    lint = _cfn_lint(broken)
    assert lint.returncode != 0 and "a day" in lint.stdout


def test_the_template_has_what_a_durable_function_needs() -> None:
    template = yaml.load(TEMPLATE.read_text(), Loader=_Loader)
    function = template["Resources"]["OrderWorkflow"]["Properties"]
    assert set(function["DurableConfig"]) == {"ExecutionTimeout", "RetentionPeriodInDays"}
    assert function["AutoPublishAlias"]  # executions start on a published version
    assert function["Handler"] == "order_workflow.place_order"
    assert (ROOT / "examples" / "order_workflow.py").exists()
    statements = [s for p in function["Policies"] if isinstance(p, dict) for s in p["Statement"]]
    actions = {action for statement in statements for action in statement["Action"]}
    assert actions == {"lambda:CheckpointDurableExecution", "lambda:GetDurableExecutionState"}


def test_the_api_reference_builds_with_every_public_name_documented(tmp_path: Path) -> None:
    out = tmp_path / "api"
    build = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "api.py"), str(out)],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    page = (out / "eventflow.html").read_text(encoding="utf-8")
    assert "DurableContext" in page and "DurableCallInStepError" in page
    testing = (out / "eventflow" / "testing.html").read_text(encoding="utf-8")
    assert "DurableHarness" in testing and "advance" in testing  # the test toolkit is documented too


def test_the_guides_are_there_and_linked() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for guide in ("docs/DEPLOYING.md", "docs/MIGRATING.md", "docs/LOGGING.md"):
        assert (ROOT / guide).exists(), guide
        assert guide in readme, guide
