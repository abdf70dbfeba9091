"""Office files to PDF with LibreOffice headless, in a throwaway folder (worker side)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from server.documents.limits import Limits
from server.documents.refusals import DocumentRefusal, Refused
from server.documents.sniff import Kind


def office_to_pdf(src: Path, kind: Kind, work: Path, limits: Limits) -> Path:
    """The PDF LibreOffice makes of `src`; no time limit here: the server kills the group.

    The worker runs in a process group of its own; soffice and the children it forks stay in
    that group, so the server's wall-clock timeout ends all of them at once.
    """
    binary = shutil.which(limits.soffice)
    if binary is None:
        raise Refused(DocumentRefusal.CONVERTER_MISSING)
    # The extension says which import filter to try first; the kind came from the content.
    source = work / f"input.{kind.value}"
    shutil.copyfile(src, source)
    home = work / "home"
    home.mkdir()
    out = work / "pdf"
    env = {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TMPDIR": str(work),
    }
    completed = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [
            binary,
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source),
        ],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    pdf = out / "input.pdf"
    if completed.returncode != 0 or not pdf.is_file():
        raise Refused(DocumentRefusal.CONVERSION_FAILED)
    return pdf
