"""What must hold of the Dockerfile, checked by reading it (no build here).

The real build and start take minutes and the network, so they are not part of
the suite: ``bash scripts/image.sh`` does them (builds with buildah, starts the
container, checks /healthz, /readyz and the image's HEALTHCHECK, creates a
room, stops it), and its latest output is recorded in docs/operations.md.
What can be checked without a build is checked here: a multi-stage build whose
last stage runs as a non-root user, an exec-form command and health check that
agree on the port, the base image as a build argument with the official slim
image by default, every package of the wheel copied in, and a .dockerignore
that keeps the local venv, Git and node_modules out of the build context.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
IMAGE_SCRIPT = ROOT / "scripts" / "image.sh"

DEFAULT_BASE = "python:3.11-slim"
#: Never in the build context: big (.venv, node_modules), private (.git), or test output.
MUST_BE_IGNORED = (".venv", ".git", "node_modules", "test-artifacts")


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    args: str


def parse(text: str) -> list[Instruction]:
    """The Dockerfile's instructions, with continuation lines joined and comments dropped."""
    instructions: list[Instruction] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#") or (not stripped and not pending):
            continue  # a comment inside a continued instruction is dropped as well
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = (pending + stripped).strip()
        pending = ""
        if whole:
            keyword, _, args = whole.partition(" ")
            instructions.append(Instruction(keyword.upper(), args.strip()))
    assert not pending, "the Dockerfile ends in a continuation line"
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """The build stages, each starting with its FROM; what precedes the first FROM is left out."""
    result: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def last(stage: list[Instruction], keyword: str) -> Instruction:
    found = [i for i in stage if i.keyword == keyword]
    assert found, f"the runtime stage has no {keyword}"
    return found[-1]


def exec_form(args: str) -> list[str]:
    """A JSON array of strings (the exec form); anything else fails the test."""
    try:
        words = json.loads(args)
    except json.JSONDecodeError:
        words = None
    assert isinstance(words, list) and all(isinstance(w, str) for w in words), (
        f"not the exec form (a JSON array of strings): {args}"
    )
    return words


def option(words: list[str], name: str) -> str:
    assert name in words, f"{name} missing from {words}"
    return words[words.index(name) + 1]


def dockerfile() -> list[Instruction]:
    return parse(DOCKERFILE.read_text(encoding="utf-8"))


def runtime_stage() -> list[Instruction]:
    return stages(dockerfile())[-1]


def test_the_base_image_is_a_build_argument_with_the_official_slim_image_by_default() -> None:
    instructions = dockerfile()
    first_from = next(n for n, i in enumerate(instructions) if i.keyword == "FROM")
    global_args = [i.args for i in instructions[:first_from] if i.keyword == "ARG"]
    assert f"BASE_IMAGE={DEFAULT_BASE}" in global_args
    # Both stages on the same base: the venv built in one refers to the other's python3.
    for stage in stages(instructions):
        image = stage[0].args.split()[0]
        assert image == "${BASE_IMAGE}", f"FROM {stage[0].args} does not use the build argument"
    # The script tries the same default before it falls back to a local base.
    script = IMAGE_SCRIPT.read_text(encoding="utf-8")
    assert f'DEFAULT_BASE="docker.io/library/{DEFAULT_BASE}"' in script


def test_the_slim_default_has_a_python_that_pyproject_allows() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    minimum = re.fullmatch(r">=(\d+)\.(\d+)", pyproject["project"]["requires-python"])
    assert minimum, "requires-python is no longer a plain >=X.Y: check the bases by hand"
    default = re.fullmatch(r"python:(\d+)\.(\d+)-slim", DEFAULT_BASE)
    assert default
    assert tuple(map(int, default.groups())) >= tuple(map(int, minimum.groups()))
    # The local base is Debian 12, whose python3 is 3.11.
    assert 'DEBIAN_SUITE="bookworm"' in IMAGE_SCRIPT.read_text(encoding="utf-8")
    assert tuple(map(int, minimum.groups())) <= (3, 11)


def test_the_build_is_multi_stage_and_the_runtime_copies_only_the_venv() -> None:
    all_stages = stages(dockerfile())
    assert len(all_stages) >= 2, "a single stage ships the build tools and the sources"
    builder = all_stages[0]
    assert any("python3 -m venv /opt/kleur" in i.args for i in builder if i.keyword == "RUN"), (
        "`python3 -m venv` works on both bases (Debian's python3 has no `python`)"
    )
    copies = [i.args.split() for i in runtime_stage() if i.keyword in ("COPY", "ADD")]
    assert copies, "the runtime stage copies nothing from the builder"
    for words in copies:
        assert words[0].startswith("--from="), f"the runtime stage copies {words} from the context"
    assert ["--from=builder", "/opt/kleur", "/opt/kleur"] in copies
    env = " ".join(i.args for i in runtime_stage() if i.keyword == "ENV")
    assert "PATH=/opt/kleur/bin:" in env


def test_the_builder_copies_every_package_of_the_wheel() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    copied = {
        i.args.split()[0]
        for i in stages(dockerfile())[0]
        if i.keyword == "COPY" and not i.args.startswith("--")
    }
    for package in packages:
        assert package in copied, f"the wheel's package {package} is not copied into the build"
        assert package not in ignored_names(), f".dockerignore leaves out {package}"
    assert {"pyproject.toml", "README.md"} <= {
        word for i in stages(dockerfile())[0] if i.keyword == "COPY" for word in i.args.split()
    }


def test_the_runtime_stage_has_redis_server_for_the_embedded_default() -> None:
    runs = " ".join(i.args for i in runtime_stage() if i.keyword == "RUN")
    assert re.search(r"apt-get install [^&]*\bredis-server\b", runs)


def test_the_last_stage_runs_as_a_numeric_non_root_user() -> None:
    user = last(runtime_stage(), "USER").args
    uid, _, gid = user.partition(":")
    # Numeric, so that Kubernetes' runAsNonRoot can verify it without /etc/passwd.
    assert uid.isdigit(), f"USER {user} is not numeric"
    assert int(uid) != 0, f"USER {user} is root"
    assert not gid or (gid.isdigit() and int(gid) != 0), f"USER {user}: group root"


def test_the_command_is_exec_form_kleur_serve_on_the_exposed_port_with_data_in_the_volume() -> None:
    stage = runtime_stage()
    words = exec_form(last(stage, "CMD").args)
    assert words[:2] == ["kleur", "serve"]
    assert option(words, "--host") == "0.0.0.0"
    assert option(words, "--port") == last(stage, "EXPOSE").args.split("/")[0]
    volume = last(stage, "VOLUME").args
    assert option(words, "--data-dir") == volume.strip('[]" ')
    assert not [i for i in stage if i.keyword == "ENTRYPOINT"], (
        "an ENTRYPOINT (a shell script) would come between the engine's SIGTERM and kleur"
    )


def test_the_healthcheck_is_exec_form_and_asks_the_served_port() -> None:
    stage = runtime_stage()
    healthcheck = last(stage, "HEALTHCHECK").args
    assert healthcheck != "NONE"
    assert "CMD " in healthcheck, healthcheck
    options, _, command = healthcheck.partition("CMD ")
    probe = " ".join(exec_form(command))
    port = option(exec_form(last(stage, "CMD").args), "--port")
    assert re.search(rf"http://127\.0\.0\.1:{port}/(healthz|readyz)\b", probe), probe
    assert "--timeout=" in options and "--interval=" in options


def ignored_names() -> set[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return {line.strip().strip("/") for line in lines if line.strip() and line[0] != "#"}


def test_the_dockerignore_keeps_the_venv_git_and_node_modules_out() -> None:
    ignored = ignored_names()
    for name in MUST_BE_IGNORED:
        assert name in ignored, f".dockerignore does not exclude {name}"
    assert not any(line.startswith("!") for line in ignored), (
        "an exception (!...) could bring an excluded folder back; keep the list plain"
    )


def test_the_image_script_is_valid_bash() -> None:
    subprocess.run(["bash", "-n", str(IMAGE_SCRIPT)], check=True)
