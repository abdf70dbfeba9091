"""Real sample files for the document tests, made on the spot (Pillow, av, zipfile, LibreOffice)."""

from __future__ import annotations

import array
import math
import shutil
import struct
import subprocess
import zipfile
import zlib
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image, ImageDraw


def slide_image(number: int, width: int = 1280, height: int = 720) -> Image.Image:
    """A slide-like picture: a title, a few lines of text and a coloured block."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 90), fill=(30, 90, 160))
    draw.text((40, 30), f"Slide {number}: photosynthesis", fill="white", font_size=36)
    for line in range(8):
        y = 140 + line * 60
        draw.text(
            (60, y),
            f"- point {line + 1} of slide {number}, a line of text",
            fill="black",
            font_size=28,
        )
    draw.ellipse((width - 360, height - 320, width - 60, height - 40), fill=(240, 180, 40))
    return image


def pdf(path: Path, pages: int) -> Path:
    """A PDF of `pages` slide-like pages (Pillow writes each as an image page)."""
    images = [slide_image(n + 1) for n in range(pages)]
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=96)
    return path


def png(path: Path, width: int = 800, height: int = 600) -> Path:
    slide_image(1, width, height).save(path, "PNG")
    return path


def jpeg(path: Path, width: int = 800, height: int = 600) -> Path:
    slide_image(1, width, height).save(path, "JPEG", quality=85)
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width by height; its few bytes of pixels stop short."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\0" * 1024)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
    return path


def tone(rate: int, seconds: float) -> list[av.AudioFrame]:
    """A 440 Hz sine as mono s16 frames of 1152 samples (an MP3 frame's length)."""
    total = int(rate * seconds)
    frames = []
    for start in range(0, total, 1152):
        count = min(1152, total - start)
        pcm = array.array(
            "h",
            (int(8000 * math.sin(2 * math.pi * 440 * (start + i) / rate)) for i in range(count)),
        )
        frame = av.AudioFrame(format="s16", layout="mono", samples=count)
        frame.planes[0].update(pcm.tobytes())
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        frames.append(frame)
    return frames


def mp3(path: Path, seconds: float = 2.0) -> Path:
    """A sine tone encoded as MP3 by FFmpeg's LAME."""
    rate = 44_100
    with av.open(str(path), "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=rate)
        stream.layout = "mono"
        for frame in tone(rate, seconds):
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def flv(path: Path, seconds: float = 1.0) -> Path:
    """A legacy FLV: Sorenson H.263 video and MP3 audio."""
    with av.open(str(path), "w", format="flv") as out:
        video = out.add_stream("flv", rate=25)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        audio = out.add_stream("libmp3lame", rate=44_100)
        audio.layout = "mono"
        for index in range(int(25 * seconds)):
            frame = av.VideoFrame.from_image(  # type: ignore[no-untyped-call]
                Image.new("RGB", (320, 240), (index * 8, 90, 160))
            )
            frame.pts = index
            frame.time_base = Fraction(1, 25)
            for packet in video.encode(frame):
                out.mux(packet)
        for frame in tone(44_100, seconds):
            for packet in audio.encode(frame):
                out.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                out.mux(packet)
    return path


def good_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("worksheet.txt", "Exercise 1: ...\n" * 20)
        archive.writestr("images/", "")
        archive.writestr("images/diagram.txt", "a diagram")
    return path


def zip_with(path: Path, name: str, *, symlink: bool = False) -> Path:
    """An archive holding one entry called `name` (a symlink if asked)."""
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo(name)
        if symlink:
            info.external_attr = 0o120777 << 16
        archive.writestr(info, "/etc/passwd" if symlink else "x")
    return path


def zip_bomb(path: Path, megabytes: int = 200) -> Path:
    """One entry of zeros: a few hundred kilobytes that unpack to `megabytes`."""
    block = b"\0" * (1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w", force_zip64=True) as entry,
    ):
        for _ in range(megabytes):
            entry.write(block)
    return path


def zip_many(path: Path, entries: int) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(entries):
            archive.writestr(f"f{index}.txt", "")
    return path


def flat_odp(path: Path, slides: int) -> Path:
    """A flat OpenDocument presentation (one XML file) with `slides` text slides."""
    pages = "".join(
        f'<draw:page draw:name="s{n}" draw:master-page-name="Default">'
        f'<draw:frame svg:x="2cm" svg:y="1cm" svg:width="24cm" svg:height="3cm">'
        f"<draw:text-box><text:p>Slide {n}: the water cycle</text:p></draw:text-box></draw:frame>"
        f'<draw:frame svg:x="2cm" svg:y="5cm" svg:width="24cm" svg:height="10cm"><draw:text-box>'
        + "".join(
            f"<text:p>Point {k} of slide {n}: evaporation, condensation.</text:p>"
            for k in range(1, 6)
        )
        + "</draw:text-box></draw:frame></draw:page>"
        for n in range(1, slides + 1)
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
        'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
        'office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.presentation">'
        '<office:master-styles><style:master-page style:name="Default"/></office:master-styles>'
        f"<office:body><office:presentation>{pages}</office:presentation></office:body>"
        "</office:document>",
        "utf-8",
    )
    return path


def soffice() -> str | None:
    """LibreOffice's command, if installed."""
    return shutil.which("soffice")


def office(source: Path, target_ext: str, out_dir: Path) -> Path:
    """`source` converted by LibreOffice (its own throwaway profile) to `target_ext`."""
    profile = out_dir / "lo-profile"
    subprocess.run(
        [
            "soffice",
            "--headless",
            "--norestore",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            target_ext,
            "--outdir",
            str(out_dir),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    shutil.rmtree(profile, ignore_errors=True)
    return out_dir / f"{source.stem}.{target_ext}"
