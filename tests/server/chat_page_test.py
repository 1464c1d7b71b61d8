"""The chat page at GET / in a real browser: headless Chromium (Debian's,
driven by python3-selenium and chromium-driver) loads it from a live
qwenserve, sets a system prompt, sends a message and sees the streamed
answer appear, equal to what qwenrun says alone, with its tokens/s.
Usage: chat_page_test.py URL EXPECTED_TEXT_FILE"""
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

url, expected_file = sys.argv[1], sys.argv[2]
expected = open(expected_file, encoding="utf-8").read()
if expected.endswith("\n"):
    expected = expected[:-1]  # qwenrun ends its output with a newline

options = Options()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)
try:
    driver.get(url + "/")
    wait = WebDriverWait(driver, 30)
    wait.until(lambda d: d.find_element(By.ID, "model").text not in ("", "qwenserve"))  # /v1/models answered
    driver.find_element(By.ID, "system").send_keys("You are terse.")
    driver.find_element(By.ID, "temperature").send_keys("0")
    max_tokens = driver.find_element(By.ID, "max-tokens")
    max_tokens.clear()
    max_tokens.send_keys("8")
    driver.find_element(By.ID, "message").send_keys("Hello! Who are you?")
    driver.find_element(By.ID, "send").click()
    stats = wait.until(lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, ".stats") if "tok/s" in e.text])
    answer = driver.execute_script("return document.querySelector('.msg.assistant').textContent")
    assert answer == expected, f"the page shows {answer!r}, qwenrun said {expected!r}"
    assert "8 tokens" in stats[0].text, stats[0].text
    assert driver.find_element(By.ID, "stop").get_attribute("disabled") is not None  # the answer is over
    print(f"chat page test passed: {answer!r}, {stats[0].text}")
finally:
    driver.quit()
