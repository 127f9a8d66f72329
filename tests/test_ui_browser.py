"""The studio end to end in headless Chromium: `seig ui` as a real server, upload → run → approve → results.

Set SEIG_DOCS_SCREENSHOT=1 when running by hand to refresh docs/ui.png for the README.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
DOCS_SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "ui.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def studio(tmp_path):
    """`seig ui` on a free loopback port with its own database; the whole process group is ended after."""
    port = free_port()
    seig = Path(sys.executable).with_name("seig")
    log = open(tmp_path / "server.log", "w+")
    server = subprocess.Popen(
        [str(seig), "ui", "--port", str(port), "--db", str(tmp_path / "runs" / "seig.sqlite")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        assert server.poll() is None, f"seig ui exited: {(tmp_path / 'server.log').read_text()}"
        assert time.monotonic() < deadline, "seig ui did not come up within 60 s"
        time.sleep(0.3)
    log.seek(0)
    assert f"seig studio: {url}" in log.read()
    yield url
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(5)
    log.close()


@pytest.fixture
def photo(tmp_path) -> Path:
    img = Image.new("RGB", (64, 48), (60, 100, 180))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 34, 64, 48), fill=(120, 110, 90))
    draw.ellipse((18, 12, 40, 34), fill=(220, 50, 40))
    path = tmp_path / "red_ball.png"
    img.save(path)
    return path


def set_number(page, label: str, value: int) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    page.wait_for_function(
        "([label, value]) => [...document.querySelectorAll('input[type=number]')]"
        ".some(i => i.getAttribute('aria-label') === label && i.value === value)",
        arg=[label, str(value)],
    )
    script_idle(page)


def script_idle(page) -> None:
    """Wait until the app's script has finished its rerun: a click landing mid-rerun can be lost."""
    from playwright.sync_api import expect

    expect(page.locator('[data-testid="stApp"]')).to_have_attribute("data-test-script-state", "notRunning")


def loaded_image(page, caption: str):
    """The <img> of the st.image captioned so, once the browser has really decoded it."""
    image = page.locator('[data-testid="stImage"]').filter(has_text=caption).locator("img").first
    image.wait_for(state="visible", timeout=30_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    return image


def wait_for_text_or_error(page, text: str) -> None:
    """Wait for the run to reach ``text``; if the chat shows an error instead, fail with that error."""
    from playwright.sync_api import expect

    reached = page.get_by_text(text)
    failed = page.locator('[data-testid="stAlertContentError"]')
    expect(reached.or_(failed).first).to_be_visible(timeout=240_000)
    assert not failed.count(), f"the run stopped with: {failed.first.inner_text()}"


def test_upload_run_approve_and_download(studio, photo, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.set_default_timeout(30_000)
            page.goto(studio)
            expect(page.get_by_role("heading", name="New run")).to_be_visible(timeout=90_000)  # first load imports the engine

            page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(str(photo))
            loaded_image(page, "red_ball.png")
            page.get_by_label("Ask for approval").click()
            page.get_by_role("option", name="After every stage").click()
            expect(page.get_by_role("combobox", name="Ask for approval")).to_have_value("After every stage")
            for stage, budget in (("scaffold", 1), ("geometry", 0), ("materials", 0), ("composition", 0), ("lighting", 0)):
                set_number(page, stage, budget)
            page.get_by_text("Render sizes").click()
            for label, value in (("Loop resolution (px)", 32), ("Loop samples", 2), ("Final resolution (px)", 48), ("Final samples", 2)):
                set_number(page, label, value)
            page.screenshot(path=str(shots / "1-new-run.png"), full_page=True)
            page.get_by_role("button", name="Start run").click()  # set_number waited for the rerun its input started
            progress = page.locator('[data-testid="stProgress"]')
            expect(progress).to_contain_text("scaffold", timeout=60_000)  # the live line while Blender works
            page.screenshot(path=str(shots / "2-progress.png"), full_page=True)

            wait_for_text_or_error(page, "stage is ready for review")
            loaded_image(page, "scaffold round 1")
            loaded_image(page, "best scaffold render")
            for name in ("Approve", "Redo stage", "Revise"):
                expect(page.get_by_role("button", name=name, exact=True)).to_be_enabled()
            expect(page.get_by_label("What should the coder change?")).to_be_editable()
            assert "run=" in page.url, "the run is not in the URL, so a reopened tab could not find it"
            page.screenshot(path=str(shots / "3-approval.png"), full_page=True)

            page.get_by_role("button", name="Approve", exact=True).click()
            wait_for_text_or_error(page, "Done. The final render")
            page.get_by_role("tab", name="Results").click()
            loaded_image(page, "final.png")
            for name in ("scene.py", "scene.blend", "report.json"):
                expect(page.get_by_role("button", name=f"Download {name}")).to_be_visible()
            with page.expect_download() as download:
                page.get_by_role("button", name="Download scene.py").click()
            assert "import bpy" in Path(download.value.path()).read_text()
            page.screenshot(path=str(shots / "4-results.png"), full_page=True)
        finally:
            browser.close()
    if os.environ.get("SEIG_DOCS_SCREENSHOT"):
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copy(shots / "3-approval.png", DOCS_SCREENSHOT)
