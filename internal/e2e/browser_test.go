package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// browser is one headless Chromium driven over the DevTools protocol, with
// every console error, uncaught exception and failed load of its pages
// collected.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu   sync.Mutex
	errs []string
}

// newBrowser starts Chromium with a fresh profile, at 1280×800. The flags
// keep it from reaching for the network, which is closed here and would
// make it slow.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the console's browser tests need Debian's chromium at %s (apt-get install chromium; .ci/run installs it): %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.addError("console." + string(e.Type) + ": " + strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.addError("exception: " + msg + " at " + d.URL)
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				b.addError("log (" + string(e.Entry.Source) + "): " + e.Entry.Text + " " + e.Entry.URL)
			}
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the log domain: %v", err)
	}
	if _, err := chromedp.Call(ctx, runtime.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the runtime domain: %v", err)
	}
	return b
}

func (b *browser) addError(s string) {
	b.mu.Lock()
	b.errs = append(b.errs, s)
	b.mu.Unlock()
}

// checkErrors fails the test for every error the pages logged since the
// last check, except those containing one of allow, and forgets them.
func (b *browser) checkErrors(page string, allow ...string) {
	b.t.Helper()
	b.mu.Lock()
	errs := b.errs
	b.errs = nil
	b.mu.Unlock()
next:
	for _, e := range errs {
		for _, a := range allow {
			if strings.Contains(e, a) {
				continue next
			}
		}
		b.t.Errorf("%s: browser error: %s", page, e)
	}
}

func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// open navigates to url.
func (b *browser) open(url string) {
	b.t.Helper()
	b.do("open "+url, chromedp.Navigate(url))
}

// click clicks the first element matching a CSS selector, once it is
// visible.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// wait polls a JavaScript expression until it is truthy (an expression
// that throws, say on an element not there yet, counts as false, as does
// a page still navigating).
func (b *browser) wait(what, expr string) {
	b.t.Helper()
	safe := "(() => { try { return !!(" + expr + "); } catch (e) { return false; } })()"
	deadline := time.Now().Add(40 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](safe))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	body, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('main') ? document.querySelector('main').innerText.slice(0, 2000) : document.body.innerText`))
	b.t.Fatalf("waiting for %s (%s): last error %v\npage shows:\n%s", what, expr, last, body)
}

// eval evaluates a JavaScript expression (awaiting a promise) into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// shot saves a screenshot of the whole page as name.png in the test's
// artifact directory (go test -artifacts keeps it), and in
// $HYDRANT_SCREENSHOTS when set (docs/CONSOLE.md's are made so).
func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dirs := []string{b.t.ArtifactDir()}
	if d := os.Getenv("HYDRANT_SCREENSHOTS"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
}

// viewport sets the window's size (a phone's, say).
func (b *browser) viewport(w, h int64, scale float64) {
	b.t.Helper()
	b.do("viewport", chromedp.EmulateViewport(w, h, chromedp.EmulateScale(scale)))
}

// accessible checks what can be checked mechanically on the page: every
// form control has a label (a <label>, aria-label or aria-labelledby),
// every button and link has a name, nothing is wider than the window, and
// text contrasts with its background as WCAG AA asks (4.5:1, or 3:1 for
// large text; disabled controls are exempt).
func (b *browser) accessible(page string) {
	b.t.Helper()
	problems := eval[[]string](b, `(() => {
	  const out = [];
	  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
	    if (el.closest('[hidden]')) continue;
	    if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
	      out.push('unlabelled ' + el.outerHTML.slice(0, 120));
	  }
	  for (const el of document.querySelectorAll('button, a[href]')) {
	    if (!(el.textContent.trim() || el.getAttribute('aria-label') || el.title)) out.push('nameless ' + el.outerHTML.slice(0, 120));
	  }
	  if (document.documentElement.scrollWidth > window.innerWidth + 1)
	    out.push('page is ' + document.documentElement.scrollWidth + 'px wide in a ' + window.innerWidth + 'px window');
	  const rgba = (s) => { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(parseFloat); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
	  const lum = (c) => { const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
	  const bg = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor); if (c && c[3] > 0.5) return c; } return [255, 255, 255, 1]; };
	  let low = 0;
	  for (const el of document.querySelectorAll('body *')) {
	    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
	    if (el.closest(':disabled, [hidden], .u-legend, canvas') || !el.getClientRects().length) continue;
	    const cs = getComputedStyle(el);
	    if (cs.visibility === 'hidden' || cs.display === 'none') continue;
	    const fg = rgba(cs.color), b = bg(el);
	    if (!fg) continue;
	    const l1 = lum(fg), l2 = lum(b), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
	    const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
	    const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
	    if (ratio < need && low++ < 10) out.push('contrast ' + ratio.toFixed(2) + ':1 < ' + need + ' for "' + el.textContent.trim().slice(0, 40) + '" (' + cs.color + ' on rgb(' + b.slice(0, 3).join(',') + '))');
	  }
	  return out;
	})()`)
	for _, p := range problems {
		b.t.Errorf("%s: %s", page, p)
	}
}

// plotsDrawn counts the charts (canvases) inside sel with a data line
// drawn: pixels of the first series' colour (#0b5cad), not only axes and
// grid.
func (b *browser) plotsDrawn(sel string) int {
	b.t.Helper()
	q, _ := json.Marshal(sel + " canvas")
	return eval[int](b, `(() => {
	  let n = 0;
	  for (const c of document.querySelectorAll(`+string(q)+`)) {
	    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
	    for (let i = 0; i < d.length; i += 4) {
	      if (d[i + 3] > 200 && Math.abs(d[i] - 11) < 30 && Math.abs(d[i + 1] - 92) < 30 && Math.abs(d[i + 2] - 173) < 30) { n++; break; }
	    }
	  }
	  return n;
	})()`)
}
