"""`denoisekit serve` as an API (gradio_client): the /denoise endpoint with only a file, twenty
requests at once, and the refusals; plus what the verb says before it starts."""

import socket
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from denoisekit.io import read_image

gradio_client = pytest.importorskip("gradio_client", reason="pip install .[app]")


@pytest.fixture(scope="module")
def client(server):
    return gradio_client.Client(server.url, verbose=False)


def test_denoise_endpoint_gains_5_db_with_only_a_file(client, tmp_path, noisy_photo, psnr):
    clean = noisy_photo(tmp_path / "noisy.png", gray=True)
    noisy = read_image(tmp_path / "noisy.png")
    path = client.predict(gradio_client.handle_file(tmp_path / "noisy.png"), api_name="/denoise")
    assert path.endswith("noisy-denoised.png")
    result = read_image(path)
    assert result.dtype == np.uint8 and result.shape == clean.shape
    assert psnr(result, clean) >= psnr(noisy, clean) + 5


def test_the_endpoint_takes_the_page_settings_by_name(client, tmp_path, noisy_photo, psnr):
    clean = noisy_photo(tmp_path / "noisy.png", size=64)
    path = client.predict(
        gradio_client.handle_file(tmp_path / "noisy.png"),
        model="color-blind",
        sigma=25,
        strength=1.0,
        api_name="/denoise",
    )
    assert psnr(read_image(path), clean) >= psnr(read_image(tmp_path / "noisy.png"), clean) + 5


def test_twenty_requests_at_once_are_each_answered_with_their_own_photo(
    client, tmp_path, noisy_photo, psnr
):
    cleans, jobs = [], []
    for seed in range(20):
        path = tmp_path / f"photo{seed}.png"
        cleans.append(noisy_photo(path, seed=seed, size=48))
        jobs.append(path)
    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [
            pool.submit(client.predict, gradio_client.handle_file(p), api_name="/denoise")
            for p in jobs
        ]
        results = [future.result(timeout=240) for future in futures]
    for seed, (clean, path, noisy) in enumerate(zip(cleans, results, jobs, strict=True)):
        # answered with a denoised copy of this very photo (the crops differ by seed)
        gain = psnr(read_image(path), clean) - psnr(read_image(noisy), clean)
        assert gain >= 3, (seed, gain)


def test_uploads_above_the_size_limit_are_refused(client, server, tmp_path):
    import httpx
    from PIL import Image

    grain = np.random.default_rng(0).integers(0, 255, (300, 300, 3), np.uint8)
    Image.fromarray(grain).save(tmp_path / "grain.png")  # 270 kB, above the 0.2 MB limit
    with pytest.raises(ValueError, match="exceeds the maximum file size of 200000 bytes"):
        client.predict(gradio_client.handle_file(tmp_path / "grain.png"), api_name="/denoise")
    # the server refuses it too, for clients that do not look first
    with open(tmp_path / "grain.png", "rb") as f:
        files = {"files": ("grain.png", f, "image/png")}
        response = httpx.post(f"{server.url}gradio_api/upload", files=files, timeout=30)
    assert response.status_code == 413, response.text
    assert "maximum allowed size" in response.text


def test_photos_above_the_pixel_limit_get_one_line(client, tmp_path):
    from PIL import Image

    Image.fromarray(np.full((800, 800), 128, np.uint8)).save(tmp_path / "wide.png")
    with pytest.raises(gradio_client.exceptions.AppError) as caught:
        client.predict(gradio_client.handle_file(tmp_path / "wide.png"), api_name="/denoise")
    assert str(caught.value) == (
        "wide.png is 800×800 (0.64 MP), above this server's limit of 0.5 MP"
    )


@pytest.mark.parametrize(
    "name,content,needle",
    [
        ("notes.txt", b"not a photo", "notes.txt is not an image"),
        ("fake.png", b"not a photo", "cannot read fake.png as an image"),
    ],
)
def test_files_that_are_not_images_get_one_line(client, tmp_path, name, content, needle):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(gradio_client.exceptions.AppError, match=needle) as caught:
        client.predict(gradio_client.handle_file(tmp_path / name), api_name="/denoise")
    assert "Traceback" not in str(caught.value) and "\n" not in str(caught.value)


def test_serve_refuses_a_port_in_use_in_one_line(capsys):
    from denoisekit.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("denoisekit: error: cannot listen on 127.0.0.1:") and "\n" not in err


def test_listening_beyond_this_machine_is_said():
    from denoisekit.app.server import exposure_note

    assert exposure_note("127.0.0.1", 7860) is None
    assert exposure_note("localhost", 7860) is None
    note = exposure_note("0.0.0.0", 7860)
    assert "0.0.0.0" in note and "port 7860" in note and "no login" in note
