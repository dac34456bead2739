"""The demo driven in headless Chromium: org page -> IdP login form -> backend page.
Saves tests/artifacts/demo-signed-in.png."""
import os
import sys
import tempfile

import pytest

from conftest import ARTIFACTS
from httpd import free_port

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from demo_stack import Demo  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def demo(tmp_path_factory, module_so):
    d = Demo(str(tmp_path_factory.mktemp("demo")), free_port(), free_port(), free_port(),
             module_so=module_so)
    yield d
    d.stop()


@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("chromium and chromium-driver are required (tests/install-deps)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # No GPU, no sandbox as root, and none of Chromium's background calls home: this machine's
    # network is closed.
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1100,900",
                 "--user-data-dir=" + tempfile.mkdtemp(prefix="chromium-")):
        options.add_argument(flag)
    service = Service(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def test_demo_login_in_chromium_reaches_the_backend_with_identity(demo, browser):
    browser.get(demo.url + "welcome?from=browser")
    wait = WebDriverWait(browser, 30)
    wait.until(ec.presence_of_element_located((By.NAME, "username")))
    assert browser.current_url.startswith(demo.idp.base_url)
    browser.find_element(By.NAME, "username").send_keys("alice@example.com")
    browser.find_element(By.NAME, "password").send_keys("alicepass")
    browser.find_element(By.NAME, "password").submit()
    # SimpleSAMLphp's page posts the response to the ACS by itself; the ACS sends the browser
    # back to the page it asked for.
    wait.until(ec.text_to_be_present_in_element((By.ID, "who"), "alice@example.com"))
    assert browser.current_url == demo.url + "welcome?from=browser"
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "X-Remote-Org acme" in page
    assert 'X-Remote-Teams "developers";role="Member", "operations";role="Manager"' in page
    assert "cloudsmith_saml_acme" not in page
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, "demo-signed-in.png")
    assert browser.save_screenshot(shot)
    assert os.path.getsize(shot) > 1000
