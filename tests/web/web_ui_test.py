#!/usr/bin/env python3
"""Headless Chromium checks of the certskew web UI (run by tests/e2e/test_web_ui.sh).

Environment (set by the shell driver): WEB_PROXY_PORT, WEB_OK_PORT,
WEB_NOTYET_PORT, WEB_CHROMIUM_PORT, WEB_SCT0_MS, WEB_SCT1_MS, WEB_CA_PEM,
WEB_CA_SPKI, WEB_FPS (served fingerprints by openssl), WEB_ART (screenshot
dir), WEB_TMP (scratch dir). Exit status 0 only when every check passed.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ENV = os.environ
PROXY = int(ENV["WEB_PROXY_PORT"])
BASE = f"http://127.0.0.1:{PROXY}"
ART = ENV["WEB_ART"]
TMP = ENV["WEB_TMP"]
SCT1_MS = int(ENV["WEB_SCT1_MS"])
FAILS = []

# Plot geometry of web/timeline.js (viewBox units), to check pixel math.
PLOT_X0, PLOT_X1 = 260, 986


def check(name, ok, detail=""):
    if ok:
        print(f"ok: {name}")
    else:
        print(f"FAIL: {name} {detail}", file=sys.stderr)
        FAILS.append(name)
    return ok


def api(path, body=None):
    req = urllib.request.Request(BASE + path, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def api_json(path, body=None):
    status, data = api(path, body)
    return status, json.loads(data)


def capture_for(port, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        _, lst = api_json("/api/captures")
        hits = [c for c in lst["captures"] if c["port"] == port]
        if hits:
            return hits[0]
        time.sleep(0.1)
    return None


def curl_through_proxy(port):
    ca = ENV["WEB_CA_PEM"]
    out = subprocess.run(["curl", "-sS", "--max-time", "20", "-x", f"http://127.0.0.1:{PROXY}",
                          "--proxy-cacert", ca, "--cacert", ca, "-o", os.devnull, "-w", "%{http_code}",
                          f"https://localhost:{port}/index.html"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--window-size=1400,1000", "--force-device-scale-factor=1",
              f"--user-data-dir={tempfile.mkdtemp(dir=TMP, prefix='chrome-ui-')}"]:
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def check_console(d, where):
    """No script errors; refused API calls (400/404 asked for by the test) are expected."""
    bad = [e["message"] for e in d.get_log("browser") if e["level"] == "SEVERE"
           and "the server responded with a status of 4" not in e["message"]]
    check(f"{where}: no errors in the browser console", not bad, bad[:5])


def wait(d, fn, what, timeout=10):
    try:
        # The list re-renders while polling: an element found a moment ago
        # may have been replaced (stale); that is a retry, not a failure.
        return WebDriverWait(d, timeout, poll_frequency=0.05,
                             ignored_exceptions=(StaleElementReferenceException,)).until(lambda _: fn())
    except TimeoutException:
        check(what, False, "(timed out)")
        return None


def shot(d, name, element=None):
    path = os.path.join(ART, f"{name}.png")
    if element is not None:
        element.screenshot(path)
    else:
        d.save_screenshot(path)


def rects(d, **attrs):
    sel = "svg.timeline rect.fail" + "".join(f'[data-{k.replace("_", "-")}="{v}"]' for k, v in attrs.items())
    return d.find_elements(By.CSS_SELECTOR, sel)


def edge(t, lower):
    if t is None:
        return "-inf" if lower else "+inf"
    return str(t["ms"])


def windows_of(report):
    """(check id, clock, from attr, to attr) of every failure window in a report."""
    out = set()
    for ck in report["checks"]:
        for pc in ck["per_clock"]:
            iv = pc["fails_for_true_times"]
            if iv is not None:
                out.add((str(ck["id"]), pc["clock"], edge(iv["from"], True), edge(iv["to"], False)))
    return out


def drawn_windows(d):
    return set(tuple(x) for x in d.execute_script("""
      return [...document.querySelectorAll('svg.timeline rect.fail[data-kind=check]')].map(r =>
        [r.dataset.checkId, r.dataset.clock, r.dataset.fromMs, r.dataset.toMs]);"""))


CONTRAST_JS = """
function lum(c) {
  const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
  const p = m[1].split(',').map(Number);
  if (p.length > 3 && p[3] === 0) return null;
  const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(p[0]) + 0.7152 * f(p[1]) + 0.0722 * f(p[2]);
}
function bgOf(el) {
  for (let e = el; e; e = e.parentElement) {
    const l = lum(getComputedStyle(e).backgroundColor); if (l !== null) return l;
  }
  return 1;
}
const bad = [];
for (const el of document.querySelectorAll('body *')) {
  const txt = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!txt || el.closest('[hidden],title,desc,option,script,style,noscript')) continue;
  const r = el.getBoundingClientRect(); if (r.width === 0 || r.height === 0) continue;
  const cs = getComputedStyle(el);
  const inSvg = el instanceof SVGElement;
  const fg = lum(inSvg ? cs.fill : cs.color); if (fg === null) continue;
  // SVG text sits on the plot's stripes (#f0f1f3) at worst.
  const bg = inSvg ? lum('rgb(240,241,243)') : bgOf(el);
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  if (ratio < 4.5) bad.push(el.tagName + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
}
return bad;
"""

A11Y_JS = """
const out = {};
out.banner = !!document.querySelector('body > header');
out.nav = !!document.querySelector('nav');
out.main = document.querySelectorAll('main').length === 1;
out.unlabelled = [...document.querySelectorAll('input, select, textarea')].filter(i =>
  i.type !== 'hidden' && i.labels.length === 0 && !i.getAttribute('aria-label')).map(i => i.outerHTML.slice(0, 80));
out.svgs = [...document.querySelectorAll('svg')].map(s => {
  const t = s.querySelector(':scope > title'), d = s.querySelector(':scope > desc');
  return !!(t && t.textContent.trim() && d && d.textContent.trim());
});
out.fakeButtons = document.querySelectorAll('[role=button], div[onclick], span[onclick]').length;
out.emptyButtons = [...document.querySelectorAll('button, a')].filter(b =>
  !(b.textContent.trim() || b.getAttribute('aria-label'))).length;
out.h1 = document.querySelectorAll('h1').length;
out.foreign = performance.getEntriesByType('resource').map(e => e.name)
  .filter(n => !n.startsWith(location.origin + '/') && !n.startsWith('blob:'));
out.lang = document.documentElement.lang;
return out;
"""


def check_a11y(d, where):
    a = d.execute_script(A11Y_JS)
    check(f"{where}: landmarks (header, nav, one main)", a["banner"] and a["nav"] and a["main"], a)
    check(f"{where}: every form field has a label", not a["unlabelled"], a["unlabelled"])
    check(f"{where}: every SVG has a title and a desc", all(a["svgs"]), a["svgs"])
    check(f"{where}: no div/span pretending to be a button", a["fakeButtons"] == 0, a["fakeButtons"])
    check(f"{where}: every button and link has text", a["emptyButtons"] == 0, a["emptyButtons"])
    check(f"{where}: one h1, lang set", a["h1"] == 1 and a["lang"] == "en", a)
    check(f"{where}: nothing loaded from another origin", not a["foreign"], a["foreign"])
    bad = d.execute_script(CONTRAST_JS)
    check(f"{where}: text contrast >= 4.5:1", not bad, bad[:8])


def main():
    ok_cap = capture_for(int(ENV["WEB_OK_PORT"]))
    if not check("the curl capture is in the API", ok_cap is not None):
        return
    ok_id = ok_cap["id"]
    _, ok_report = api_json(f"/api/captures/{ok_id}/report")

    d = browser()
    try:
        run(d, ok_id, ok_report)
        check_console(d, "capture pages")
        check_file(d)
        check_console(d, "report file page")
    finally:
        d.quit()
    chromium_as_proxied_browser()
    check_history()


def connections_rows(d):
    return d.execute_script("""return [...document.querySelectorAll('table.sightings tbody tr')].map(r =>
      ({verdict: r.dataset.verdict, action: r.dataset.action, at: Number(r.dataset.atMs), text: r.innerText}));""")


def check_history():
    """The Connections view: fresh failed then passed for Safari; the restart re-judged."""
    base = f"http://127.0.0.1:{ENV['WEB_FRESH_PROXY']}"
    cap = ENV["WEB_FRESH_ID"]
    d = browser()
    try:
        d.set_window_size(1400, 900)
        d.get(base + "/?poll=300#/connections")
        wait(d, lambda: len(connections_rows(d)) >= 3, "connections: the fresh sightings are listed")
        rows = connections_rows(d)
        print("connections:", [(r["verdict"], r["action"], r["at"]) for r in rows])
        ats = [r["at"] for r in rows]
        check("connections: newest first", ats == sorted(ats, reverse=True), ats)
        safari = [r for r in rows if "safari" in r["text"] and f"localhost:{ENV['WEB_LAB_PORTS'].split()[0]}" in r["text"]]
        seq = [r["verdict"] for r in reversed(safari)]  # oldest first
        check("connections: Safari failed in the issuance second, then passed, then failed after the restart",
              seq[:3] == ["fail", "pass", "fail"], seq)
        if len(safari) >= 3:
            check("connections: the failing sighting got the 502 page, the passing one was relayed",
                  safari[-1]["action"] == "502 page" and safari[-2]["action"] == "relayed", [r["action"] for r in safari])
        shot(d, "connections")
        check_a11y(d, "connections page")
        d.get(base + "/?poll=300#/capture/" + cap)
        if wait(d, lambda: d.find_elements(By.CSS_SELECTOR, ".top-cause"), "restart: the report shows a failing cause"):
            _, rep = api_json_at(base, f"/api/captures/{cap}/report")
            cause = rep["verdict"]["top_cause"]
            txt = d.find_element(By.CSS_SELECTOR, ".top-cause").text
            check(f"restart: the page names the new cause {cause}", cause and cause in txt, txt)
            shot(d, "report_restart")
        # Chromium, intercepting (this proxy) and in passthrough (the other).
        chrome = [r for r in rows if "chrome" in r["text"]]
        d.get(base + "/?poll=300#/connections")
        wait(d, lambda: len([r for r in connections_rows(d) if "chrome" in r["text"]]) >= 2,
             "connections (intercepting): Chromium's connections to both lab scenarios are listed", 15)
        chrome = [r for r in connections_rows(d) if "chrome" in r["text"]]
        check("connections (intercepting): what Chromium was given, per lab scenario",
              all(any(f"localhost:{p}" in r["text"] for r in chrome) for p in ENV["WEB_LAB_PORTS"].split()),
              [r["text"][:120] for r in chrome])
        d.get(f"http://127.0.0.1:{ENV['WEB_PASS_PROXY']}/?poll=300#/connections")
        wait(d, lambda: len(connections_rows(d)) >= 2, "connections (passthrough): Chromium's connections are listed", 15)
        prow = connections_rows(d)
        print("passthrough connections:", [(r["verdict"], r["action"]) for r in prow])
        check("connections (passthrough): what Chromium did with each lab scenario's real chain",
              all(any(f"localhost:{p}" in r["text"] and r["action"] and r["action"] != "unknown" for r in prow)
                  for p in ENV["WEB_LAB_PORTS"].split()), [r["text"][:140] for r in prow])
        shot(d, "connections_chromium")
        check_console(d, "connections pages")
    finally:
        d.quit()


def api_json_at(base, path):
    with urllib.request.urlopen(base + path, timeout=20) as r:
        return r.status, json.loads(r.read())


def run(d, ok_id, ok_report):
    d.get(BASE + "/?poll=300")
    item = f'li.capture[data-id="{ok_id}"]'
    el = wait(d, lambda: d.find_elements(By.CSS_SELECTOR, item), "the list shows the curl capture")
    if not el:
        shot(d, "list")
        return
    wait(d, lambda: "loading" not in d.find_element(By.CSS_SELECTOR, item).text, "the capture's verdict loads")
    text = d.find_element(By.CSS_SELECTOR, item).text
    ok_port = ENV["WEB_OK_PORT"]
    check("list: host and port", f"localhost:{ok_port}" in text, text)
    check("list: verdict at the real clock is pass", ok_report["verdict"]["at"] == "pass" and "pass" in text, text)
    check("list: a pass is a pass (no severity or fact code on a passing capture)",
          ok_report["verdict"]["clients_at"] == "pass" and ok_report["verdict"]["top_code"] not in text
          and "Info" not in text, text)
    check("list: first seen shown as RFC 3339", ok_report and re.search(r"first \d{4}-\d\d-\d\dT", text), text)
    shot(d, "list")
    check_a11y(d, "list page")

    # ---- live update: a capture made while the page is open ----
    d.execute_script("window.__sameDocument = 42;")
    # Keyboard focus on the first capture must survive the list's live update.
    d.execute_script("arguments[0].focus()", d.find_element(By.CSS_SELECTOR, f"{item} a.capture-link"))
    status = curl_through_proxy(int(ENV["WEB_NOTYET_PORT"]))
    check(f"curl to the not-yet-valid chain: 502 (got {status})", status == "502")
    ny = capture_for(int(ENV["WEB_NOTYET_PORT"]))
    if check("the second capture is in the API", ny is not None):
        sel = f'li.capture[data-id="{ny["id"]}"]'
        def new_capture_text():
            # One lookup: its text is read from the element just found.
            els = d.find_elements(By.CSS_SELECTOR, sel)
            return els and "NOT_YET_VALID" in els[0].text and els[0].text
        got = wait(d, new_capture_text, "live: the new capture appears", 10)
        if got:
            t2 = got
            check("live: appeared without a reload", d.execute_script("return window.__sameDocument") == 42)
            check("live: FAIL verdict and NOT_YET_VALID", "FAIL" in t2 and "NOT_YET_VALID" in t2, t2)
            order = d.execute_script("return [...document.querySelectorAll('li.capture')].map(l => l.dataset.id)")
            check("live: newest first", order and order[0] == ny["id"], order)
            focused = d.execute_script("const li = document.activeElement.closest('li.capture'); return li && li.dataset.id")
            check("live: keyboard focus stays on the same capture across the update", focused == ok_id, focused)

    check_list_tools(d, ok_id, ny["id"] if ny else None)

    # ---- keyboard: focus the capture link, Enter opens the report ----
    link = d.find_element(By.CSS_SELECTOR, f"{item} a.capture-link")
    d.execute_script("arguments[0].focus()", link)
    link.send_keys(Keys.ENTER)
    if not wait(d, lambda: d.find_elements(By.CSS_SELECTOR, "article.report"), "Enter on a capture opens its report"):
        return
    check("report: URL names the capture", d.current_url.endswith("#/capture/" + ok_id), d.current_url)
    check("report: the list marks it current",
          d.find_element(By.CSS_SELECTOR, f"{item} a").get_attribute("aria-current") == "page")
    check_fold(d, "the passing capture")
    if ny is not None:
        d.get(BASE + "/?poll=300#/capture/" + ny["id"])
        wait(d, lambda: d.find_elements(By.CSS_SELECTOR, "article.report table.clients"), "the failing capture's report opens")
        check_fold(d, "the failing capture", expect_cause="NOT_YET_VALID")
        shot(d, "report_top")
        d.get(BASE + "/?poll=300#/capture/" + ok_id)
        wait(d, lambda: d.find_elements(By.CSS_SELECTOR, "article.report table.clients"), "the passing capture's report opens again")
    open_all(d)
    check_report(d, ok_report)
    d.set_window_size(1400, 2600)
    shot(d, "report")
    # The lower sections (chain, CT, trust, revocation) in a second picture.
    d.execute_script("document.querySelector('table.ct').scrollIntoView({block: 'start'})")
    shot(d, "report_lower")
    d.set_window_size(1400, 1000)
    check_a11y(d, "report page")
    check_downloads(d, ok_id, ok_report)
    check_replay(d, ok_id)


def open_all(d, all_rows=False):
    """Opens every report section and shows the timeline's check rows."""
    d.find_element(By.ID, "open-all").click()
    btn = d.find_element(By.ID, "tl-checks")
    if btn.get_attribute("aria-pressed") != "true":
        btn.click()
    if all_rows:
        btn = d.find_element(By.ID, "tl-all")
        if btn.get_attribute("aria-pressed") != "true":
            btn.click()


def check_fold(d, which, expect_cause=None):
    """At 1400x900 the per-client table and the top cause are above the fold; the page is short."""
    d.set_window_size(1400, 900)
    d.execute_script("window.scrollTo(0, 0)")
    m = d.execute_script("""
      const vh = window.innerHeight;
      const t = document.querySelector('table.clients'), c = document.querySelector('.top-cause') ||
        [...document.querySelectorAll('article.report p')].find(p => p.textContent.includes('Every client passes'));
      const closed = [...document.querySelectorAll('details.fold')].every(x => !x.open);
      return {vh, table: t && t.getBoundingClientRect().bottom, cause: c && c.getBoundingClientRect().bottom,
        causeText: c && c.textContent, height: document.documentElement.scrollHeight, closed};""")
    print(f"measured ({which}): {m}")
    check(f"{which}: the per-client table and the top cause are visible without scrolling at 1400x900",
          m["table"] is not None and m["cause"] is not None and m["table"] <= m["vh"] and m["cause"] <= m["vh"], m)
    check(f"{which}: every other section is closed, the page is under 4,000 px tall ({m['height']} px)",
          m["closed"] and m["height"] < 4000, m)
    if expect_cause:
        check(f"{which}: the top cause is {expect_cause}", expect_cause in (m["causeText"] or ""), m["causeText"])
    head = d.find_element(By.ID, "report-heading").text
    check(f"{which}: the heading is host:port and the leaf's subject", re.match(r"localhost:\d+ — ", head), head)
    d.set_window_size(1400, 1000)


def check_list_tools(d, ok_id, ny_id):
    """Search by host and filter by verdict and code narrow the list; the heading counts."""
    items = lambda: d.execute_script("return [...document.querySelectorAll('li.capture')].map(l => l.dataset.id)")
    total = len(items())
    search = d.find_element(By.ID, "cap-search")
    search.send_keys(ENV["WEB_NOTYET_PORT"])
    got = items()
    check("search: the host:port narrows the list to one capture", ny_id is not None and got == [ny_id], got)
    head = d.find_element(By.ID, "captures-heading").text
    check("search: the heading counts what is shown of all", f"1 of {total}" in head, head)
    search.clear()
    search.send_keys(Keys.BACKSPACE)
    wait(d, lambda: len(items()) == total, "search: clearing it shows every capture again")
    d.execute_script("const s = document.getElementById('cap-verdict'); s.value = 'fail'; s.dispatchEvent(new Event('change'))")
    got = items()
    check("filter: FAIL only", ny_id in got and ok_id not in got, got)
    d.execute_script("const s = document.getElementById('cap-verdict'); s.value = 'pass'; s.dispatchEvent(new Event('change'))")
    got = items()
    check("filter: pass only", ok_id in got and ny_id not in got, got)
    d.execute_script("const s = document.getElementById('cap-verdict'); s.value = ''; s.dispatchEvent(new Event('change'));"
                     "const c = document.getElementById('cap-code'); c.value = 'NOT_YET_VALID'; c.dispatchEvent(new Event('change'))")
    got = items()
    check("filter by cause code: NOT_YET_VALID only", got == [ny_id], got)
    d.execute_script("const c = document.getElementById('cap-code'); c.value = ''; c.dispatchEvent(new Event('change'));"
                     "document.getElementById('cap-group').click()")
    groups = d.find_elements(By.CSS_SELECTOR, "section.host-group")
    check("group by host: one group per host:port", len(groups) == total, len(groups))
    d.find_element(By.ID, "cap-group").click()


def check_report(d, report):
    codes = d.execute_script("return [...document.querySelectorAll('li.finding')].map(f => f.dataset.code)")
    check("diagnosis: every finding, in the report's rank order", codes == [f["code"] for f in report["findings"]],
          (codes, [f["code"] for f in report["findings"]]))
    first = d.find_element(By.CSS_SELECTOR, "li.finding").text
    f0 = report["findings"][0]
    check("diagnosis: summary, explanation and fix shown",
          f0["summary"] in first and f0["explanation"] in first and (f0["fix"] is None or f0["fix"] in first))
    body = d.find_element(By.CSS_SELECTOR, "article.report").text
    fps = open(ENV["WEB_FPS"]).read().split()
    check("chain: each served certificate's SHA-256 (by openssl) is shown", fps and all(f in body for f in fps), fps)
    leaf = report["chain"]["certificates"][0]
    check("chain: subject, issuer and validity", all(x in body for x in
          (leaf["subject"], leaf["issuer"], leaf["not_before"]["rfc3339"], leaf["not_after"]["rfc3339"])))
    ct_rows = d.find_elements(By.CSS_SELECTOR, "table.ct tbody tr")
    check("CT: one row per SCT", report.get("ct") and len(ct_rows) == len(report["ct"]["scts"]) == 2, len(ct_rows))
    check("CT: SCT timestamps shown", all(s["timestamp"]["rfc3339"] in body for s in report["ct"]["scts"]))
    want = windows_of(report)
    got = drawn_windows(d)
    check(f"timeline: every failure window drawn with its interval ({len(want)})", want == got and want,
          (sorted(want - got)[:4], sorted(got - want)[:4]))
    iss = d.find_elements(By.CSS_SELECTOR, "svg.timeline g.marker.issuance")
    check("timeline: issuance marked at the estimate", iss and iss[0].get_attribute("data-ms") ==
          str(report["issuance"]["estimate"]["ms"]))


def check_downloads(d, cap_id, report):
    href = d.find_element(By.ID, "dl-report").get_attribute("href")
    status, data = api(href.replace(BASE, ""))
    check("download: the JSON report link gives the report", status == 200 and json.loads(data) == report)
    href = d.find_element(By.ID, "dl-chain").get_attribute("href")
    check("download: links carry a download file name",
          d.find_element(By.ID, "dl-chain").get_attribute("download").endswith(".chain.pem"))
    status, pem = api(href.replace(BASE, ""))
    path = os.path.join(TMP, "dl_chain.pem")
    with open(path, "wb") as f:
        f.write(pem)
    fps = []
    for block in re.findall(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", pem, re.S):
        out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], input=block,
                             capture_output=True, timeout=10).stdout.decode()
        fps.append(out.split("=", 1)[-1].strip().replace(":", "").lower())
    check("download: the chain PEM is exactly the served chain (openssl)", fps == open(ENV["WEB_FPS"]).read().split(), fps)


def check_replay(d, cap_id):
    at_ms = SCT1_MS + 62
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at_ms // 1000)) + f".{at_ms % 1000:03d}Z"
    form = d.find_element(By.CSS_SELECTOR, "form.replay")
    add = form.find_element(By.CSS_SELECTOR, "input[name=clock]")
    add.send_keys("trunc:1m", Keys.ENTER)  # Enter adds the model to the list
    check("replay: Enter adds the model", "trunc:1m" in form.find_element(By.CSS_SELECTOR, "ul.clock-list").text)
    at_in = form.find_element(By.CSS_SELECTOR, "input[name=at]")
    at_in.clear()
    at_in.send_keys(at)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    if not wait(d, lambda: d.find_element(By.ID, "view").get_attribute("data-replayed") == "true",
                "replay: the replayed report is shown", 15):
        return
    clocks = [c["name"] for c in json.loads(api("/api/captures/" + cap_id + "/report")[1])["input"]["clocks"]]
    # The same replay through the API, and an independent expectation: a
    # clock read in whole minutes accepts an SCT from the next minute on.
    _, rep = api_json("/api/replay", {"capture": cap_id, "clocks": [c for c in clocks] + ["trunc:1m"], "at": at})
    sct = [c for c in rep["checks"] if c["kind"] == "sct_timestamp" and c["item_index"] == 1][0]
    pc = [p for p in sct["per_clock"] if p["clock"] == "trunc:1m"][0]
    expect_to = (SCT1_MS // 60000 + 1) * 60000
    check("replay API: trunc:1m fails SCT #1 until the next whole minute",
          pc["fails_for_true_times"]["from"] is None and pc["fails_for_true_times"]["to"]["ms"] == expect_to, pc)
    open_all(d)
    r = rects(d, check_id=sct["id"], clock="trunc:1m")
    check("timeline: a shaded window for SCT #1 at trunc:1m", len(r) == 1, len(r))
    if r:
        check("timeline: its data-from-ms/data-to-ms equal the report's interval",
              r[0].get_attribute("data-from-ms") == "-inf" and r[0].get_attribute("data-to-ms") == str(expect_to),
              (r[0].get_attribute("data-from-ms"), r[0].get_attribute("data-to-ms"), expect_to))
    check("timeline: every window of the replay drawn", windows_of(rep) == drawn_windows(d))
    banner = d.find_element(By.CSS_SELECTOR, ".banner").text
    check("replay: the banner names the instant", at in banner, banner)
    verdict_fail = d.find_element(By.CSS_SELECTOR, "dl.facts").text
    check("replay: verdict FAIL at the instant (trunc:1m and trustd fail)", "FAIL" in verdict_fail, verdict_fail)
    shot(d, "replay")

    # ---- zoom to milliseconds around the window's end ----
    svg = d.find_element(By.CSS_SELECTOR, "svg.timeline")
    go = d.find_element(By.CSS_SELECTOR, "form.go input")
    end_txt = pc["fails_for_true_times"]["to"]["rfc3339"]
    go.clear()
    go.send_keys(end_txt, Keys.ENTER)
    d.find_element(By.CSS_SELECTOR, 'button[data-span-ms="10"]').click()
    vf, vt = float(svg.get_attribute("data-view-from-ms")), float(svg.get_attribute("data-view-to-ms"))
    check("zoom: a 10 ms span centred on the window's end", abs((vt - vf) - 10) < 1e-6 and abs((vf + vt) / 2 - expect_to) < 1e-6,
          (vf, vt))
    top = [t.text for t in d.find_elements(By.CSS_SELECTOR, "svg.timeline text.tick-top")]
    check("zoom: time labels at the top of the plot too, at 10 ms", len(top) >= 3 and all(re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", t) for t in top), top)
    boxes = d.execute_script("""return [...document.querySelectorAll('svg.timeline text.tick-top, svg.timeline .marker text')]
      .map(t => t.getBoundingClientRect()).map(r => [r.left, r.right, r.top, r.bottom]);""")
    overlap = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
               if a[0] < b[1] - 0.5 and b[0] < a[1] - 0.5 and a[2] < b[3] - 0.5 and b[2] < a[3] - 0.5]
    check("zoom: no two labels overlap", not overlap, overlap[:3])
    ticks = [t.text for t in d.find_elements(By.CSS_SELECTOR, "svg.timeline text.tick")]
    check("zoom: tick labels show milliseconds", len(ticks) >= 3 and all(re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3}", t) for t in ticks), ticks)
    end_label = time.strftime("%H:%M:%S", time.gmtime(expect_to // 1000)) + ".000"
    check("zoom: the window's end instant is a labelled tick", end_label in ticks, (end_label, ticks))
    r = rects(d, check_id=sct["id"], clock="trunc:1m")[0]
    right = float(r.get_attribute("x")) + float(r.get_attribute("width"))
    check("zoom: the shaded window ends exactly mid-plot", abs(right - (PLOT_X0 + PLOT_X1) / 2) < 0.01, right)
    svg.send_keys("+")
    vf2, vt2 = float(svg.get_attribute("data-view-from-ms")), float(svg.get_attribute("data-view-to-ms"))
    check("zoom: + on the focused plot halves the span", abs((vt2 - vf2) - 5) < 1e-6, (vf2, vt2))
    d.find_element(By.CSS_SELECTOR, 'button[data-span-ms="3600000"]').click()
    vf3, vt3 = float(svg.get_attribute("data-view-from-ms")), float(svg.get_attribute("data-view-to-ms"))
    check("zoom: out to an hour", abs((vt3 - vf3) - 3600000) < 1e-3, (vf3, vt3))
    ticks = [t.text for t in d.find_elements(By.CSS_SELECTOR, "svg.timeline text.tick")]
    check("zoom: hour view labels are HH:MM", ticks and all(re.fullmatch(r"\d\d:\d\d", t) for t in ticks), ticks)
    d.find_element(By.CSS_SELECTOR, 'button[data-span-ms="10"]').click()
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", svg)
    shot(d, "timeline_ms", d.find_element(By.CSS_SELECTOR, ".timeline-wrap"))

    # ---- refused input is shown plainly ----
    form = d.find_element(By.CSS_SELECTOR, "form.replay")
    add = form.find_element(By.CSS_SELECTOR, "input[name=clock]")
    add.send_keys("bogus model")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    err = d.find_element(By.ID, "replay-error")
    wait(d, lambda: err.is_displayed() and "bogus model" in err.text, "bad clock: the error is shown")
    _, api_err = api_json("/api/replay", {"capture": cap_id, "clocks": ["bogus model"]})
    check("bad clock: the page shows the API's message", api_err["error"] in err.text, (err.text, api_err))
    check("bad clock: role=alert", err.get_attribute("role") == "alert")
    add = d.find_element(By.CSS_SELECTOR, "form.replay input[name=clock]")
    check("bad clock: the field is marked invalid and keeps the text",
          add.get_attribute("aria-invalid") == "true" and add.get_attribute("value") == "bogus model")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", err)
    shot(d, "replay_error")
    add.clear()
    at_in = d.find_element(By.CSS_SELECTOR, "form.replay input[name=at]")
    at_in.clear()
    at_in.send_keys("yesterday")
    d.find_element(By.CSS_SELECTOR, "form.replay button[type=submit]").click()
    wait(d, lambda: err.is_displayed() and '"at"' in err.text, "bad instant: the error names \"at\"")
    check("bad instant: the field is marked invalid", at_in.get_attribute("aria-invalid") == "true")
    d.find_element(By.XPATH, "//button[normalize-space()='Back to the captured report']").click()
    check("back: the captured report again",
          d.find_element(By.ID, "view").get_attribute("data-replayed") == "false")


def check_file(d):
    """A `certskew replay --json` file opened in the page: trust and revocation shown."""
    d.get(BASE + "/?poll=300")
    inp = d.find_element(By.ID, "report-file")
    check("file: the file input has a label", d.execute_script("return arguments[0].labels.length", inp) == 1)
    inp.send_keys(ENV["WEB_BAD_FILE"])
    wait(d, lambda: "Cannot open" in d.find_element(By.ID, "file-error").text, "file: a broken file is refused plainly")
    inp.send_keys(ENV["WEB_FILE_REPORT"])
    if not wait(d, lambda: d.find_elements(By.CSS_SELECTOR, "article.report"), "file: the report file is shown"):
        return
    rep = json.load(open(ENV["WEB_FILE_REPORT"]))
    check("file: the bad-file message is cleared", d.find_element(By.ID, "file-error").text == "")
    open_all(d, all_rows=True)
    secs = {k: v for k, v in d.execute_script(
        "return [...document.querySelectorAll('article.report .card')].map(c => [c.querySelector('h3').textContent, c.innerText])")}
    rev = secs.get("Revocation (OCSP and CRL)", "")
    st = rep["revocation"]["stapled_ocsp"]
    check("file: revocation section with the stapled OCSP facts",
          "stapled ocsp" in rev and st["cert_status"] in rev and st["this_update"]["rfc3339"] in rev and st["next_update"]["rfc3339"] in rev, rev[:300])
    cl = secs.get("Clients", "")
    check("file: the per-client table comes first, one row per client in the file",
          list(secs)[0] == "Clients" and all(c["name"] in cl for c in rep["clients"])
          and len(d.find_elements(By.CSS_SELECTOR, "table.clients tbody tr")) == len(rep["clients"]), cl[:300])
    tr = secs.get("Trust paths", "")
    check("file: trust section with the anchor store", "root.pem" in tr and "anchor" in tr, tr[:300])
    hops = d.execute_script("return [...document.querySelectorAll('li.path')].map(p => [...p.querySelectorAll('li.hop')].map(h => h.getBoundingClientRect().left))")
    check("file: trust paths drawn as certificate boxes left to right, anchor last",
          hops and all(len(p) >= 2 and p == sorted(p) for p in hops) and d.find_elements(By.CSS_SELECTOR, "li.hop.hop-anchor"), hops)
    check("file: no replay form or capture downloads", not d.find_elements(By.CSS_SELECTOR, "form.replay, #dl-report"))
    kinds = d.execute_script("return [...new Set([...document.querySelectorAll('svg.timeline rect.fail')].map(r => r.dataset.checkId))]")
    check("file: timeline windows equal the file's, OCSP checks included",
          windows_of(rep) == drawn_windows(d) and any(c["kind"] == "ocsp_this_update" for c in rep["checks"]),
          (len(windows_of(rep)), len(drawn_windows(d)), kinds))
    labels = [t.text for t in d.find_elements(By.CSS_SELECTOR, "svg.timeline .row-check .row-label")]
    groups = [t.text for t in d.find_elements(By.CSS_SELECTOR, "svg.timeline .row-group")]
    check("file: OCSP/CRL validity drawn apart from the certificate's checks", any("OCSP" in g for g in groups), groups)
    check("file: a timeline row per check, OCSP thisUpdate among them",
          len(labels) == len(rep["checks"]) and any("thisUpdate" in l or "this" in l.lower() for l in labels), labels)
    check_a11y(d, "report file")
    d.set_window_size(1400, 2600)
    d.execute_script("document.querySelector('table.ct').scrollIntoView({block: 'start'})")
    shot(d, "report_file")
    d.set_window_size(1400, 1000)


def chromium_as_proxied_browser():
    """Chromium browses an https page through the proxy; its capture appears."""
    port = int(ENV["WEB_CHROMIUM_PORT"])
    profile = tempfile.mkdtemp(dir=TMP, prefix="chrome-px-")
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}",
           f"--proxy-server=http://127.0.0.1:{PROXY}", "--proxy-bypass-list=<-loopback>",
           f"--ignore-certificate-errors-spki-list={ENV['WEB_CA_SPKI']}",
           "--virtual-time-budget=3000", "--dump-dom", f"https://localhost:{port}/index.html"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    check("Chromium through the proxy: the https page loaded (our CA accepted)",
          "served through certskew" in out.stdout, out.stdout[-300:] + out.stderr[-600:])
    cap = capture_for(port, 10)
    check("Chromium through the proxy: captured", cap is not None)
    if cap is None:
        return
    d = browser()
    try:
        d.get(BASE + "/?poll=300")
        sel = f'li.capture[data-id="{cap["id"]}"]'
        if wait(d, lambda: d.find_elements(By.CSS_SELECTOR, sel), "Chromium's capture is in the list"):
            check("Chromium's capture: host and port shown", f"localhost:{port}" in d.find_element(By.CSS_SELECTOR, sel).text)
    finally:
        d.quit()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # an exception is a failed check, with its reason
        check("no exception in the browser driver", False, repr(e))
    if FAILS:
        print(f"{len(FAILS)} browser check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("all browser checks passed")
