"""The page of `denoisekit serve`: a Gradio Blocks app around `service.DenoiseService`.

One event does the work and is the API: `/denoise` takes an image file (and, optionally, the
model, the noise level and the strength, with the page's defaults) and returns the denoised
file. A second, private event draws the before/after comparison and the summary line from what
the first one left in the session's state, so the API returns the file alone.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

import gradio as gr

from ..errors import DenoiseKitError
from .service import AUTO, SIGMA_MAX, DenoiseService, Outcome, preview

log = logging.getLogger(__name__)

TITLE = "denoisekit"
INTRO = (
    "Remove noise from a photo with denoisekit's shipped models, on this machine: nothing is "
    "sent anywhere. Drop a photo (PNG, JPEG, TIFF, WebP; gray or colour, 8 or 16 bits), pick "
    "it, or paste it, then press **Denoise**. The download keeps the photo's format, bit depth "
    "and metadata."
)
# System fonts: the default theme asks Google Fonts for its own, which an offline page waits on.
FONTS = ("ui-sans-serif", "system-ui", "sans-serif")
MONO = ("ui-monospace", "monospace")


def theme() -> gr.themes.Base:
    """The default look, with system fonts (Gradio 6 takes it at `launch`)."""
    return gr.themes.Default(font=FONTS, font_mono=MONO)


def photo_input(**options: Any) -> gr.Image:
    """A `gr.Image` (drag-and-drop, file picker, clipboard) that hands the function the
    uploaded file untouched, whatever it holds: 16-bit and TIFF files keep their bits and
    metadata, and a file that is not an image reaches `DenoiseService`, which says so in one
    line, instead of Gradio's decoder failing first. (Set on the instance: a subclass would
    make Gradio write a .pyi stub beside this file.)"""
    image = gr.Image(type="filepath", image_mode=None, format="png", **options)
    decode = image.preprocess

    def keep_file(payload: Any) -> str | None:
        if payload is None or payload.path is None:
            return decode(payload)  # a pasted data: URL, which Gradio decodes to a file
        return str(payload.path)

    image.preprocess = keep_file
    return image


def build_app(
    service: DenoiseService,
    examples: list[Path],
    *,
    delete_cache: tuple[int, int] | None = None,
) -> gr.Blocks:
    """The Blocks app (not launched): upload, settings, comparison, download, examples.
    `delete_cache`: (every, age) in seconds, Gradio's sweep of its copies of uploads and
    results."""
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=delete_cache) as app:
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Row():
            with gr.Column(scale=1):
                photo = photo_input(
                    label="Noisy photo",
                    sources=["upload", "clipboard"],
                    height=320,
                    elem_id="photo",
                )
                model = gr.Dropdown(
                    service.model_names,
                    value=AUTO,
                    label="Model",
                    info="auto: the choice `denoisekit denoise` makes for this photo",
                )
                sigma = gr.Slider(
                    0,
                    SIGMA_MAX,
                    value=0,
                    step=1,
                    label="Noise level σ (0–255 scale)",
                    info="0: estimate it from the photo",
                )
                strength = gr.Slider(
                    0.5,
                    2.0,
                    value=1.0,
                    step=0.05,
                    label="Strength",
                    info="below 1 keeps more detail and grain, above 1 smooths more",
                )
                run = gr.Button("Denoise", variant="primary", elem_id="denoise")
                gr.Examples(
                    [[str(path)] for path in examples],
                    inputs=[photo],
                    label="Noisy examples (scikit-image photos, Gaussian noise added)",
                    example_labels=[_example_label(path) for path in examples],
                )
            with gr.Column(scale=2):
                comparison = gr.ImageSlider(
                    label="Before / after (drag the bar; scroll to zoom)",
                    type="numpy",
                    format="png",
                    interactive=False,
                    buttons=["fullscreen"],
                    elem_id="comparison",
                )
                summary = gr.Markdown(elem_id="summary")
                result = gr.File(
                    label="Denoised photo, full resolution", interactive=False, elem_id="result"
                )
        done = gr.State()

        def denoise(
            photo: str | None,
            model: str = AUTO,
            sigma: float = 0,
            strength: float = 1.0,
            progress: gr.Progress = gr.Progress(),  # noqa: B008  (Gradio's way to ask for it)
        ) -> tuple[str, dict]:
            """Denoise an image file; returns the denoised file in its format and bit depth.
            `model`: auto or a shipped model; `sigma`: noise level on the 0-255 scale, 0 to
            estimate it; `strength`: factor on that level."""
            if photo is None:
                raise gr.Error("upload a photo first", print_exception=False)

            def tiles(done: int, total: int) -> None:
                progress((done, total), desc="denoising", unit="tiles")

            try:
                outcome = service.denoise_file(
                    photo, model=model, sigma=sigma, strength=strength, progress=tiles
                )
            except DenoiseKitError as e:
                raise gr.Error(html.escape(str(e), quote=False), print_exception=False) from None
            log.info("%s: %s", outcome.source.name, outcome.summary())
            return str(outcome.path), _state(outcome)

        def show(state: dict | None) -> tuple[Any, str]:
            if not state:
                return None, ""
            before, after = preview(state["source"]), preview(state["path"])
            return (before, after), state["summary"]

        run.click(
            denoise,
            inputs=[photo, model, sigma, strength],
            outputs=[result, done],
            api_name="denoise",
            concurrency_id="denoise",
            show_progress_on=[comparison],  # the tile bar where the result will appear
        ).success(show, inputs=[done], outputs=[comparison, summary], api_visibility="private")
        # a new photo: the last one's result no longer applies
        photo.change(
            lambda: (None, "", None),
            outputs=[comparison, summary, result],
            queue=False,
            api_visibility="private",
        )
    return app


def _example_label(path: Path) -> str:
    """`astronaut-noisy-sigma25.png` -> `astronaut, σ 25`."""
    return path.stem.replace("-noisy-sigma", ", σ ")


def _state(outcome: Outcome) -> dict:
    """What `show` needs, kept in the session (paths and one line, not pixels)."""
    return {
        "source": str(outcome.source),
        "path": str(outcome.path),
        "summary": html.escape(outcome.summary(), quote=False),
    }
