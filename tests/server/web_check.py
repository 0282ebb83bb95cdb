#!/usr/bin/env python3
# web_check: llmt-server's chat page in headless Chromium (selenium): type, see the streamed reply, the API key prompt
"""Usage: web_check.py SERVER_BINARY MODEL"""
import shutil
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from harness import Checks, Server


def browser():
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
              "--disable-extensions", "--disable-background-networking"):
        opts.add_argument(a)
    opts.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    opts.add_argument("--user-data-dir=" + tempfile.mkdtemp(prefix="llmt-web-"))
    driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    return webdriver.Chrome(service=Service(driver_path), options=opts)


def main():
    server_bin, model = sys.argv[1:3]
    key = "page-key-42"
    srv = Server(server_bin, model, api_key=key)
    checks = Checks()
    drv = browser()
    wait = WebDriverWait(drv, 60)

    def chat():
        drv.get(srv.url + "/")
        assert "llmt chat" in drv.title
        # the server wants a key: the page shows the field once a request is refused
        wait.until(lambda d: d.find_element(By.ID, "key-box").is_displayed())
        drv.execute_script("document.getElementById('max-tokens').value = '40';"
                           "document.getElementById('temperature').value = '0';")
        box = drv.find_element(By.ID, "input")
        box.send_keys("Once upon a time there was a cat")
        box.send_keys(Keys.ENTER)
        wait.until(lambda d: "API key" in d.find_element(By.ID, "log").text)
        k = drv.find_element(By.ID, "api-key")
        k.send_keys(key)
        k.send_keys(Keys.TAB)
        box.send_keys("Once upon a time there was a cat")
        box.send_keys(Keys.ENTER)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".assistant[data-done='1']"))
        reply = drv.find_elements(By.CSS_SELECTOR, ".assistant")[-1].text
        assert len(reply) > 10, reply
        stats = drv.find_element(By.ID, "stats").text
        assert "tokens/s" in stats, stats
        # the same reply as the API gives (greedy)
        import json
        status, _, body = srv.request("POST", "/v1/chat/completions", {
            "messages": [{"role": "user", "content": "Once upon a time there was a cat"}], "max_tokens": 40, "temperature": 0})
        assert status == 200
        assert json.loads(body)["choices"][0]["message"]["content"].strip() == reply.strip(), (reply, body)

    def stop_button():
        drv.execute_script("document.getElementById('max-tokens').value = '100000';")
        box = drv.find_element(By.ID, "input")
        box.send_keys("Tell me a very long story")
        box.send_keys(Keys.ENTER)
        n = len(drv.find_elements(By.CSS_SELECTOR, ".assistant"))
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".assistant")[-1].text) > 20)
        drv.find_element(By.ID, "stop").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".assistant[data-done='1']")) == n)
        assert drv.find_element(By.ID, "send").is_enabled()
        srv.wait_kv_free(10)

    try:
        checks.run("a streamed reply in the page", chat)
        checks.run("the stop button cancels the reply", stop_button)
    finally:
        drv.quit()
    checks.run("SIGTERM: exit 0", srv.stop)
    checks.finish()


if __name__ == "__main__":
    main()
