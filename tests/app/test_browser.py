"""The page in a real browser: headless Chromium (Debian's `chromium`; Playwright's own download
cannot run here) driven by Playwright uploads a noisy photo, waits for the result, downloads it
and checks it, and sees the refusals a person would see."""

import os
import shutil

import numpy as np
import pytest

from denoisekit.io import read_image

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install .[dev] (playwright)")

TIMEOUT_MS = 120_000  # one 256x256 photo on a busy 2-core machine takes seconds; leave room


def chromium() -> str | None:
    """The system Chromium: $DENOISEKIT_CHROMIUM, else `chromium` / `chromium-browser`."""
    named = os.environ.get("DENOISEKIT_CHROMIUM")
    if named:
        return named
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def page(server):
    """A fresh load of the page per test, in one browser for the module (clipboard allowed, for
    the paste test)."""
    path = chromium()
    if path is None:
        pytest.skip("no Chromium: apt-get install chromium (or set DENOISEKIT_CHROMIUM)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        sync_api.expect.set_options(timeout=TIMEOUT_MS)
        yield page
        browser.close()


@pytest.fixture
def app(page, server):
    page.goto(server.url)
    page.wait_for_selector("#photo input[type=file]", state="attached")
    return page


def upload(page, path) -> None:
    page.set_input_files("#photo input[type=file]", str(path))


def denoise_and_download(page, path) -> np.ndarray:
    """Press Denoise, wait for the result, download it to `path` and read it."""
    page.click("#denoise")
    link = page.wait_for_selector("#result a[download]")
    with page.expect_download() as download:
        link.click()
    download.value.save_as(path)
    return read_image(path)


def test_upload_denoise_download(app, tmp_path, noisy_photo, psnr):
    clean = noisy_photo(tmp_path / "noisy.png")
    upload(app, tmp_path / "noisy.png")
    result = denoise_and_download(app, tmp_path / "downloaded.png")
    summary = app.locator("#summary")
    sync_api.expect(summary).to_contain_text("color-blind")
    sync_api.expect(summary).to_contain_text("estimated")
    sync_api.expect(app.locator("#comparison img")).to_have_count(2)  # before and after
    noisy = read_image(tmp_path / "noisy.png")
    assert result.dtype == np.uint8 and result.shape == clean.shape
    assert psnr(result, clean) >= psnr(noisy, clean) + 5
    app.screenshot(path=tmp_path / "app.png", full_page=True)
    assert (tmp_path / "app.png").stat().st_size > 10_000


def test_a_pasted_photo_is_denoised(app, tmp_path, noisy_photo, psnr):
    import base64

    clean = noisy_photo(tmp_path / "noisy.png", seed=5, size=128)
    png = base64.b64encode((tmp_path / "noisy.png").read_bytes()).decode()
    app.evaluate(
        """async (png) => {
            const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
            const item = new ClipboardItem({"image/png": new Blob([bytes], {type: "image/png"})});
            await navigator.clipboard.write([item]);
        }""",
        png,
    )
    app.click("#photo button[aria-label='Paste from clipboard']")
    sync_api.expect(app.locator("#photo img")).to_have_count(1)
    result = denoise_and_download(app, tmp_path / "pasted.png")
    colour = result[..., :3]  # the clipboard may add an alpha channel
    noisy = read_image(tmp_path / "noisy.png")
    assert colour.shape == clean.shape
    assert psnr(colour, clean) >= psnr(noisy, clean) + 5


def _message_after(page, make, needle: str, *, press: bool) -> None:
    """Upload what `make()` writes (then press Denoise when asked): a message with `needle`
    must show, and no traceback."""
    for close in page.locator(".toast-close").all():
        close.click()
    upload(page, make())
    if press:
        page.click("#denoise")
    toast = page.locator(".toast-body", has_text=needle)
    sync_api.expect(toast.first).to_be_visible()
    assert "Traceback" not in page.locator("body").inner_text()


def test_refusals_show_a_message(app, tmp_path):
    from PIL import Image

    def oversize():
        grain = np.random.default_rng(0).integers(0, 255, (300, 300, 3), np.uint8)
        Image.fromarray(grain).save(tmp_path / "grain.png")  # 270 kB, above the 0.2 MB limit
        return tmp_path / "grain.png"

    def too_many_pixels():
        Image.fromarray(np.full((800, 800), 128, np.uint8)).save(tmp_path / "wide.png")
        return tmp_path / "wide.png"

    def not_an_image():
        (tmp_path / "fake.png").write_bytes(b"not a photo")
        return tmp_path / "fake.png"

    def a_text_file():
        (tmp_path / "notes.txt").write_text("not a photo")
        return tmp_path / "notes.txt"

    page = app
    _message_after(page, oversize, "exceed the maximum allowed size", press=False)
    _message_after(page, too_many_pixels, "above this server's limit of 0.5 MP", press=True)
    _message_after(page, not_an_image, "cannot read fake.png as an image", press=True)
    _message_after(page, a_text_file, "Invalid file type", press=False)
