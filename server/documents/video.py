"""Legacy FLV to MP4 (H.264 video, AAC audio) with av, for the browser's own player."""

from __future__ import annotations

from pathlib import Path

import av

from server.documents.refusals import DocumentRefusal, Refused


def flv_to_mp4(src: Path, dst: Path) -> float:
    """Transcode `src` to `dst`; its duration in seconds."""
    try:
        with av.open(str(src)) as source, av.open(str(dst), "w", format="mp4") as target:
            video_in = source.streams.video[0] if source.streams.video else None
            audio_in = source.streams.audio[0] if source.streams.audio else None
            if video_in is None and audio_in is None:
                raise Refused(DocumentRefusal.DAMAGED)
            video_out = audio_out = None
            if video_in is not None:
                video_out = target.add_stream("libx264", rate=video_in.average_rate or 25)
                # H.264 in 4:2:0 needs even dimensions.
                video_out.width = video_in.codec_context.width // 2 * 2
                video_out.height = video_in.codec_context.height // 2 * 2
                video_out.pix_fmt = "yuv420p"
                video_out.options = {"preset": "veryfast", "crf": "26"}
            if audio_in is not None:
                audio_out = target.add_stream("aac", rate=audio_in.codec_context.sample_rate)
            streams = [s for s in (video_in, audio_in) if s is not None]
            for packet in source.demux(*streams):
                # Frames keep the source's timestamps: B-frames need them to be ordered.
                for frame in packet.decode():
                    if isinstance(frame, av.VideoFrame) and video_out is not None:
                        scaled = frame.reformat(
                            width=video_out.width, height=video_out.height, format="yuv420p"
                        )
                        target.mux(video_out.encode(scaled))
                    elif isinstance(frame, av.AudioFrame) and audio_out is not None:
                        target.mux(audio_out.encode(frame))
            if video_out is not None:
                target.mux(video_out.encode(None))
            if audio_out is not None:
                target.mux(audio_out.encode(None))
            duration = source.duration
    except av.FFmpegError:
        raise Refused(DocumentRefusal.DAMAGED) from None
    return round((duration or 0) / 1_000_000, 3)
