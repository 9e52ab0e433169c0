#!/usr/bin/env python3
"""Browser tests of the review console: the real `warden run` and `warden console` on a
temporary spool, driven by Debian's chromium through chromedriver and selenium.

Usage: WARDEN_BIN=.build/debug/warden python3 Tests/Browser/console_test.py [--out DIR] [--docs docs/img]
Prints one line per test and "N passed, N failed" at the end; exits 1 if any failed.
Screenshots go to --out (default .build/browser-test).
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Posts the shipped rules hold (spam.maybe-promotion and friends) or delete.
HELD = "visit my website for great deals"
DELETED = "you are a fucking idiot"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Spool:
    def __init__(self, warden, out):
        self.warden = warden
        self.out = out
        self.dir = tempfile.mkdtemp(prefix="warden-browser-")
        self.state = os.path.join(self.dir, "var")
        for d in ("inbox", "outbox"):
            os.makedirs(os.path.join(self.state, d), exist_ok=True)
        self.config = os.path.join(self.dir, "warden.yaml")
        with open(self.config, "w") as f:
            f.write("limits:\n  max_file_bytes: 1000000\n  max_text_scalars: 200000\n")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.passwords = {}
        self.procs = []

    def add_user(self, name, role):
        password = f"pw-{name}-0123456789"
        subprocess.run([self.warden, "users", "add", name, "--role", role, "--state", self.state],
                       input=password + "\n", text=True, check=True, capture_output=True)
        self.passwords[name] = password

    def start(self):
        log = open(os.path.join(self.out, "daemon.log"), "w")
        self.procs.append(subprocess.Popen(
            [self.warden, "run", "--config", self.config, "--rules", os.path.join(ROOT, "rules"), "--state", self.state, "--no-sync"],
            stdout=log, stderr=log))
        log = open(os.path.join(self.out, "console.log"), "w")
        self.procs.append(subprocess.Popen(
            [self.warden, "console", "--rules", os.path.join(ROOT, "rules"), "--state", self.state,
             "--listen", f"127.0.0.1:{self.port}"], stdout=log, stderr=log))
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the console did not start; see console.log")

    def post(self, post_id, text, author="u-1", name="Gemma", extra=None):
        body = {"id": post_id, "author": {"id": author, "name": name}, "text": text}
        if extra:
            body.update(extra)
        self.drop(post_id, body)

    def drop(self, name, body):
        tmp = os.path.join(self.state, "inbox", f".{name}.json.tmp")
        with open(tmp, "w") as f:
            json.dump(body, f)
        os.rename(tmp, os.path.join(self.state, "inbox", f"{name}.json"))

    def action(self, post_id):
        path = os.path.join(self.state, "outbox", f"{post_id}.json")
        with open(path) as f:
            return json.load(f)

    def wait_action(self, post_id, predicate, timeout=10):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                last = self.action(post_id)
                if predicate(last):
                    return last
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"no matching action file for {post_id}; last: {last}")

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000", "--disable-gpu"):
        options.add_argument(arg)
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    return webdriver.Chrome(service=service, options=options)


class Suite:
    def __init__(self, spool, out, docs):
        self.spool = spool
        self.out = out
        self.docs = docs
        self.a = browser()
        self.b = None
        self.passed = 0
        self.failed = 0

    def shot(self, driver, name, doc=False):
        path = os.path.join(self.out, f"{name}.png")
        driver.save_screenshot(path)
        if doc and self.docs:
            shutil.copy(path, os.path.join(self.docs, f"console-{name}.png"))

    def run(self, name, fn):
        try:
            fn()
            self.passed += 1
            print(f"PASS {name}", flush=True)
        except Exception:
            self.failed += 1
            print(f"FAIL {name}", flush=True)
            traceback.print_exc()
            try:
                self.shot(self.a, f"failed-{name}")
            except Exception:
                pass

    # Helpers

    def login(self, driver, name):
        driver.get(self.spool.base + "/login")
        driver.find_element(By.NAME, "name").send_keys(name)
        driver.find_element(By.NAME, "password").send_keys(self.spool.passwords[name])
        driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
        # click() returns before the navigation it starts has committed: wait for it, or a
        # loaded machine reads the login page's URL while the queue is already arriving.
        self.wait_url(driver, lambda url: "/login" not in url)
        assert "/login" not in driver.current_url, driver.page_source[:500]

    def wait_url(self, driver, predicate, timeout=10):
        deadline = time.time() + timeout
        while not predicate(driver.current_url) and time.time() < deadline:
            time.sleep(0.05)

    def wait_text(self, driver, text, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in driver.page_source:
                return
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; page: {driver.page_source[:600]}")

    def wait_queue(self, driver, ids, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            driver.get(self.spool.base + "/")
            present = {e.get_attribute("data-id") for e in driver.find_elements(By.CSS_SELECTOR, "tr.item")}
            if set(ids) <= present:
                return present
            time.sleep(0.3)
        raise AssertionError(f"queue lacks {set(ids) - present}")

    def open_item(self, driver, item_id):
        driver.get(self.spool.base + "/item/" + urllib.parse.quote(item_id, safe=""))

    def no_xss(self, driver):
        try:
            driver.switch_to.alert
            raise AssertionError("an alert opened: a payload ran")
        except NoAlertPresentException:
            pass
        assert "PWNED" not in driver.title
        assert driver.execute_script("return window.pwned === undefined"), "a payload set window.pwned"
        assert not driver.find_elements(By.CSS_SELECTOR, "a[href^='javascript']"), "a javascript: link was rendered"
        assert not driver.find_elements(By.CSS_SELECTOR, "main img, main script, .post-text *:not(mark):not(span)")

    # Tests

    def test_login(self):
        self.a.get(self.spool.base + "/")
        assert "/login" in self.a.current_url, "a logged-out visitor must land on the login page"
        self.shot(self.a, "login", doc=True)
        self.login(self.a, "admin")
        cookie = self.a.get_cookie("warden_session")
        assert cookie and cookie["httpOnly"] and cookie.get("sameSite") == "Strict", cookie

    def test_wrong_password(self):
        self.b = browser()
        self.b.get(self.spool.base + "/login")
        self.b.find_element(By.NAME, "name").send_keys("bob")
        self.b.find_element(By.NAME, "password").send_keys("not the password")
        self.b.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
        self.wait_text(self.b, "Wrong user name or password")
        self.login(self.b, "bob")

    def test_held_posts_from_daemon(self):
        present = self.wait_queue(self.a, ["h1", "h2", "h3", "h4", "h5", "h6", "h7"])
        assert "(" in self.a.title and "Review queue" in self.a.title, self.a.title
        pending = int(self.a.title.split(")")[0].lstrip("("))
        assert pending >= 7, self.a.title
        self.shot(self.a, "queue", doc=True)
        metrics = http.client.HTTPConnection("127.0.0.1", self.spool.port)
        metrics.request("GET", "/metrics")
        text = metrics.getresponse().read().decode()
        assert f"warden_review_pending {pending}" in text, text

    def test_release_one(self):
        self.open_item(self.a, "h1")
        assert HELD in self.a.find_element(By.CSS_SELECTOR, ".post-text").text
        assert self.a.find_elements(By.CSS_SELECTOR, ".post-text mark"), "matched spans are highlighted"
        judged = self.a.find_element(By.ID, "judged-by").text
        assert "judged by instance" in judged and "sha256:" in judged, judged
        self.shot(self.a, "item", doc=True)
        self.a.find_element(By.CSS_SELECTOR, "#form-release input[name=next]").click()  # stay on the item
        self.a.find_element(By.ID, "release").click()
        self.wait_text(self.a, "Done: released h1")
        action = self.spool.wait_action("h1", lambda a: a["action"] == "allow")
        assert action["review"]["moderator"] == "admin" and action["review"]["reason"] == "Not a violation", action

    def test_remove_with_edited_message(self):
        self.open_item(self.a, "h2")
        box = self.a.find_element(By.ID, "remove-message")
        box.clear()
        box.send_keys("Edited message: please keep adverts off this page.")
        self.a.find_element(By.CSS_SELECTOR, "#form-remove select[name=removal] option[value=hide]").click()
        self.a.find_element(By.CSS_SELECTOR, "#form-remove input[name=reason_text]").send_keys("advert")
        self.a.find_element(By.ID, "remove").click()
        action = self.spool.wait_action("h2", lambda a: a.get("review", {}).get("outcome") == "removed")
        assert action["action"] == "hide", action
        assert action["message"] == "Edited message: please keep adverts off this page.", action
        assert action["review"]["reason"] == "Breaks the guideline: advert", action

    def test_bulk_release_three(self):
        self.a.get(self.spool.base + "/")
        for item in ("h3", "h4", "h5"):
            self.a.find_element(By.CSS_SELECTOR, f"tr[data-id='{item}'] input[type=checkbox]").click()
        self.shot(self.a, "bulk-selection", doc=True)
        self.a.find_element(By.CSS_SELECTOR, "button[name=verdict][value=released]").click()
        self.wait_text(self.a, "Released 3 of 3 items.")
        for item in ("h3", "h4", "h5"):
            self.spool.wait_action(item, lambda a: a["action"] == "allow")

    def test_bulk_remove_two(self):
        self.wait_queue(self.a, ["h8", "h9"])
        for item in ("h8", "h9"):
            self.a.find_element(By.CSS_SELECTOR, f"tr[data-id='{item}'] input[type=checkbox]").click()
        bulk = self.a.find_element(By.CSS_SELECTOR, "fieldset.bulk")
        bulk.find_element(By.CSS_SELECTOR, "option[value=delete]").click()
        bulk.find_element(By.NAME, "reason_text").send_keys("same advert twice")
        bulk.find_element(By.CSS_SELECTOR, "button[name=verdict][value=removed]").click()
        self.wait_text(self.a, "Removed 2 of 2 items.")
        for item in ("h8", "h9"):
            action = self.spool.wait_action(item, lambda a: a.get("review", {}).get("outcome") == "removed")
            assert action["action"] == "delete", action
            assert "same advert twice" in action["review"]["reason"], action
        self.a.get(self.spool.base + "/")
        left = {e.get_attribute("data-id") for e in self.a.find_elements(By.CSS_SELECTOR, "tr.item")}
        assert not {"h8", "h9"} & left, left

    def test_two_sessions_race(self):
        self.open_item(self.a, "h6")
        self.open_item(self.b, "h6")
        notice = self.b.find_element(By.ID, "claim-notice").text
        assert "admin is reviewing this item" in notice, notice
        self.shot(self.b, "race-claimed", doc=True)
        self.a.find_element(By.ID, "release").click()
        self.spool.wait_action("h6", lambda a: a["action"] == "allow")
        self.b.find_element(By.ID, "remove").click()
        self.wait_text(self.b, "admin already released this at")
        self.shot(self.b, "race-lost", doc=True)
        assert self.spool.action("h6")["review"]["moderator"] == "admin"
        assert self.spool.action("h6")["action"] == "allow"

    def test_keyboard_flow(self):
        self.a.get(self.spool.base + "/")
        body = self.a.find_element(By.TAG_NAME, "body")
        body.send_keys("?")
        assert self.a.find_element(By.ID, "help").is_displayed()
        self.shot(self.a, "keyboard-help", doc=True)
        body.send_keys("?")
        rows = self.a.find_elements(By.CSS_SELECTOR, "tr.item")
        assert len(rows) >= 2
        body.send_keys("j")
        second = rows[1].get_attribute("data-id")
        assert "selected" in rows[1].get_attribute("class")
        body.send_keys("o")
        target = "/item/" + urllib.parse.quote(second, safe="")
        self.wait_url(self.a, lambda url: url.endswith(target))
        assert self.a.current_url.endswith(target), self.a.current_url
        self.wait_text(self.a, 'id="form-release"')
        self.a.find_element(By.TAG_NAME, "body").send_keys("r")
        self.wait_text(self.a, "Done: ")
        assert f"Done: released {second}" in self.a.page_source or "Done: overturned" in self.a.page_source
        assert not self.a.current_url.endswith("/item/" + second), "submit & next moves on"

    def test_xss_inert(self):
        for item in ("x1", "x2", "x3", "x4", "x5"):
            self.open_item(self.a, item)
            self.no_xss(self.a)
            assert self.a.find_element(By.CSS_SELECTOR, ".post-text").text, item
        self.open_item(self.a, "x1")
        assert "<script>" in self.a.find_element(By.CSS_SELECTOR, ".post-text").text
        self.open_item(self.a, "x4")
        controls = [e.text for e in self.a.find_elements(By.CSS_SELECTOR, ".post-text .control")]
        assert "U+202E" in controls, controls
        self.shot(self.a, "xss-bidi", doc=True)
        self.open_item(self.a, "x5")
        length = self.a.execute_script("return document.querySelector('.post-text').textContent.length")
        assert length > 100_000, length
        self.a.get(self.spool.base + "/")
        self.no_xss(self.a)
        self.a.get(self.spool.base + "/search?q=x&in=author")
        self.no_xss(self.a)
        self.shot(self.a, "queue-xss")

    def test_logged_out_refused(self):
        c = http.client.HTTPConnection("127.0.0.1", self.spool.port)
        c.request("GET", "/item/h7")
        r = c.getresponse(); r.read()
        assert r.status == 303 and r.getheader("Location") == "/login", r.status
        c.request("POST", "/item/h7", body="verdict=released&version=1&reason_pick=x",
                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse(); r.read()
        assert r.status == 401, r.status
        # Logged in, but without the form's CSRF token (a request from another site).
        token = self.a.get_cookie("warden_session")["value"]
        c.request("POST", "/item/h7", body="verdict=released&version=1&reason_pick=x",
                  headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"warden_session={token}"})
        r = c.getresponse(); r.read()
        assert r.status == 403, r.status
        assert not os.path.exists(os.path.join(self.spool.state, "outbox", "h7.json")) or \
            self.spool.action("h7").get("review") is None
        c.request("GET", "/users", headers={"Cookie": f"warden_session={self.b.get_cookie('warden_session')['value']}"})
        r = c.getresponse(); r.read()
        assert r.status == 403, f"a moderator must not see the users page: {r.status}"
        c.request("GET", "/")
        r = c.getresponse(); r.read()
        csp = r.getheader("Content-Security-Policy") or ""
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, csp

    def test_appeal_overturned(self):
        self.spool.wait_action("d1", lambda a: a["action"] == "delete")
        self.spool.drop("appeal-d1", {"type": "appeal", "post_id": "d1", "author": {"id": "u-appeal", "name": "Sam"},
                                      "text": "I was quoting what someone said to me, not calling anyone names."})
        present = self.wait_queue(self.a, ["appeal-d1"])
        first = self.a.find_element(By.CSS_SELECTOR, "tr.item").get_attribute("data-id")
        assert first == "appeal-d1", f"appeals come first, got {first}"
        self.open_item(self.a, "appeal-d1")
        assert "I was quoting" in self.a.find_element(By.CSS_SELECTOR, ".appeal").text
        assert DELETED in self.a.find_elements(By.CSS_SELECTOR, ".post-text")[1].text
        self.shot(self.a, "appeal", doc=True)
        self.a.find_element(By.CSS_SELECTOR, "#form-release input[name=next]").click()
        self.a.find_element(By.ID, "release").click()
        action = self.spool.wait_action("d1", lambda a: a["action"] == "allow")
        assert action["review"]["outcome"] == "appeal_overturned" and "you were right" in action["message"], action

    def test_search_and_audit(self):
        self.a.get(self.spool.base + "/search?q=d1&in=post")
        assert "d1" in self.a.page_source
        self.a.get(self.spool.base + "/audit")
        text = self.a.page_source
        assert "appeal_overturned" in text and "released" in text
        self.shot(self.a, "audit", doc=True)
        self.a.get(self.spool.base + "/rules")
        self.shot(self.a, "rules", doc=True)
        assert "spam.maybe-promotion" in self.a.page_source
        instances = self.a.find_elements(By.CSS_SELECTOR, "table.instances tbody tr")
        assert len(instances) == 1 and "(this host)" in instances[0].text and "sha256:" in instances[0].text, [r.text for r in instances]
        assert not self.a.find_elements(By.ID, "instances-disagree"), "one instance never disagrees with itself"

    def test_escalate_and_pardon_on_author_card(self):
        self.a.get(self.spool.base + "/author?id=u-7")
        form = self.a.find_element(By.ID, "form-escalate")
        form.find_element(By.CSS_SELECTOR, "option[value=hold_author]").click()
        form.find_element(By.NAME, "reason_text").send_keys("repeated adverts across threads")
        form.find_element(By.TAG_NAME, "button").click()
        self.wait_text(self.a, "Escalated u-7 to hold_author by hand")
        time.sleep(1.5)  # the daemon polls the ledger every half second
        # A clean post from the escalated author is now held for review by the running daemon.
        self.spool.post("e1", "thanks for fixing the road so quickly", author="u-7", name="Poster 7")
        self.wait_queue(self.a, ["e1"])
        self.a.get(self.spool.base + "/author?id=u-7")
        assert "escalated by hand to hold_author" in self.a.page_source
        form = self.a.find_element(By.CSS_SELECTOR, "form[action='/author/pardon']")
        form.find_element(By.NAME, "reason_text").send_keys("talked to them")
        form.find_element(By.TAG_NAME, "button").click()
        self.wait_text(self.a, "Pardoned u-7")
        self.shot(self.a, "author-card", doc=True)
        time.sleep(1.5)
        self.spool.post("e2", "thanks for fixing the road again", author="u-7", name="Poster 7")
        time.sleep(2)
        self.a.get(self.spool.base + "/")
        assert not self.a.find_elements(By.CSS_SELECTOR, "tr[data-id='e2']"), "after the pardon a clean post is not held"

    def test_cli_audit_and_eval_reviews(self):
        audit = subprocess.run([self.spool.warden, "audit", "--state", self.spool.state, "--format", "json"],
                               check=True, capture_output=True, text=True).stdout.splitlines()
        entries = [json.loads(line) for line in audit]
        assert any(e["action"] == "appeal_overturned" and e["item"] == "appeal-d1" for e in entries), audit[:3]
        assert any(e["action"] == "removed" and e["item"] == "h2" and "Edited message" in e["after"] for e in entries)
        result = subprocess.run([self.spool.warden, "eval", "--reviews", self.spool.state, "--rules", os.path.join(ROOT, "rules"),
                                 "--format", "json"], capture_output=True, text=True)
        report = json.loads(result.stdout)
        # Every review is a labelled post: h1..h6 (released or removed), d1 (appeal), and the keyboard release.
        assert report["posts"] >= 8, report
        spam = [g for g in report["guidelines"] if g["label"] in ("spam",)]
        assert spam and spam[0]["support"] >= 1, report["guidelines"]

    def test_logout(self):
        self.b.find_element(By.CSS_SELECTOR, "form.logout button").click()
        self.b.get(self.spool.base + "/")
        assert "/login" in self.b.current_url


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(ROOT, ".build", "browser-test"))
    parser.add_argument("--docs", default=None, help="also copy the documentation screenshots here")
    args = parser.parse_args()
    warden = os.environ.get("WARDEN_BIN", os.path.join(ROOT, ".build", "debug", "warden"))
    os.makedirs(args.out, exist_ok=True)
    if args.docs:
        os.makedirs(args.docs, exist_ok=True)
    spool = Spool(warden, args.out)
    spool.add_user("admin", "admin")
    spool.add_user("bob", "moderator")
    spool.start()
    for i in range(1, 10):
        spool.post(f"h{i}", f"{HELD} number {i}", author=f"u-{i}", name=f"Poster {i}")
        time.sleep(0.05)
    spool.post("d1", DELETED, author="u-appeal", name="Sam")
    # Each from its own author: five held posts from one author would escalate them.
    spool.post("x1", f"{HELD} <script>window.pwned=1;document.title='PWNED'</script>", author="<b>bold</b>")
    spool.post("x2", f"{HELD} <img src=x onerror=\"window.pwned=1\">", author="x-2", name="<img src=x onerror=alert(1)>")
    spool.post("x3", f"{HELD} <a href=\"javascript:window.pwned=1\">click</a> [x](javascript:alert(1))", author="x-3")
    spool.post("x4", f"{HELD} \u202etxt.exe\u202c and \u2066isolated\u2069", author="x-4")
    # 100 kB of one ordinary sentence: the learned scores are scaled by the norm of the
    # feature counts, so a post that repeats itself scores as one copy and is held like the
    # others (before that fix this post saturated the personal-attack model and was hidden).
    spool.post("x5", f"{HELD} " + ("the bus was late again and the driver was kind " * 2200), author="x-5")
    suite = Suite(spool, args.out, args.docs)
    try:
        for name in ("login", "wrong_password", "held_posts_from_daemon", "release_one", "remove_with_edited_message",
                     "bulk_release_three", "bulk_remove_two", "two_sessions_race", "xss_inert", "logged_out_refused", "appeal_overturned",
                     "keyboard_flow", "search_and_audit", "escalate_and_pardon_on_author_card",
                     "cli_audit_and_eval_reviews", "logout"):
            suite.run(name, getattr(suite, "test_" + name))
    finally:
        suite.a.quit()
        if suite.b:
            suite.b.quit()
        spool.stop()
    print(f"{suite.passed} passed, {suite.failed} failed")
    if suite.failed == 0:
        shutil.rmtree(spool.dir, ignore_errors=True)
    sys.exit(1 if suite.failed else 0)


if __name__ == "__main__":
    main()
