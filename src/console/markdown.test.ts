/**
 * renderMarkdown inside workerd (where the gallery runs it): ordinary markdown renders, and
 * what a hostile catalog text tries (script, event handlers, javascript: links, remote images,
 * attribute breaks, sheer size) comes out as text. The HTML is read back with workerd's own
 * parser (HTMLRewriter), so the checks see elements and attributes as a browser would.
 */
import { describe, expect, it } from "vitest";
import { MAX_MARKDOWN_INPUT, renderMarkdown } from "./markdown";

interface ParsedElement {
  tag: string;
  attributes: Record<string, string>;
}

/** Every element of the HTML with its attributes, as an HTML parser sees them (values as written, entities not decoded). */
async function elementsOf(html: string): Promise<ParsedElement[]> {
  const elements: ParsedElement[] = [];
  await new HTMLRewriter()
    .on("*", {
      element(element) {
        const attributes: Record<string, string> = {};
        for (const [name = "", value = ""] of element.attributes) attributes[name] = value;
        elements.push({ tag: element.tagName, attributes });
      },
    })
    .transform(new Response(html))
    .text();
  return elements;
}

/** The HTML's elements must be markdown's own, with no handler, style or script-bearing attribute. */
async function expectInert(html: string): Promise<ParsedElement[]> {
  const elements = await elementsOf(html);
  const allowed = new Set([
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "pre",
    "code",
    "em",
    "strong",
    "a",
    "blockquote",
    "hr",
    "br",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "s",
  ]);
  for (const element of elements) {
    expect(allowed.has(element.tag), `<${element.tag}> in ${html}`).toBe(true);
    for (const [name, value] of Object.entries(element.attributes)) {
      expect(["href", "title", "rel", "class", "start", "style"].includes(name), `${name} on <${element.tag}>`).toBe(
        true,
      );
      if (name === "style")
        expect(value, "markdown-it's table alignment only").toMatch(/^text-align:(left|right|center)$/);
      // Resolved as a browser resolves it (markdown-it escapes only & < > " in attributes).
      if (name === "href") {
        const resolved = new URL(value.replaceAll("&amp;", "&"), "https://registry.test/page");
        expect(["http:", "https:", "mailto:"], `href ${value}`).toContain(resolved.protocol);
      }
    }
  }
  return elements;
}

describe("renderMarkdown", () => {
  it("renders headings, emphasis and paragraphs", async () => {
    const html = renderMarkdown("# Title\n\n## Usage\n\nSome *emphasis* and **strong** text.");
    expect(html).toContain("<h1>Title</h1>");
    expect(html).toContain("<h2>Usage</h2>");
    expect(html).toContain("<p>Some <em>emphasis</em> and <strong>strong</strong> text.</p>");
    await expectInert(html);
  });

  it("renders ordered and unordered lists", async () => {
    const html = renderMarkdown("- one\n- two\n\n3. three\n4. four\n");
    expect(html).toContain("<ul>\n<li>one</li>\n<li>two</li>\n</ul>");
    expect(html).toContain('<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>');
    await expectInert(html);
  });

  it("renders fenced and indented code blocks with their content escaped", async () => {
    const html = renderMarkdown('```sh\ndocker run "app" <tag> && echo ok\n```\n\n    indented <b>\n');
    expect(html).toContain(
      '<pre><code class="language-sh">docker run &quot;app&quot; &lt;tag&gt; &amp;&amp; echo ok\n</code></pre>',
    );
    expect(html).toContain("<pre><code>indented &lt;b&gt;\n</code></pre>");
    await expectInert(html);
  });

  it("keeps a hostile fence info string inside the class attribute", async () => {
    const html = renderMarkdown('```js"><script>alert(1)</script>\nx\n```');
    const elements = await expectInert(html);
    expect(elements.map((element) => element.tag)).toEqual(["pre", "code"]);
  });

  it("shows <script> as text", async () => {
    const html = renderMarkdown("<script>alert(1)</script>\n\ninline <script>alert(2)</script> too");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("inline &lt;script&gt;alert(2)&lt;/script&gt; too");
    expect(html).not.toContain("<script");
    await expectInert(html);
  });

  it("shows <img onerror> as text", async () => {
    const html = renderMarkdown('<img src=x onerror="alert(1)">\n\nand <img src=x onerror=alert(2)>');
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    await expectInert(html);
  });

  it.each([
    "[x](javascript:alert(1))",
    "[x](JavaScript:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](file:///etc/passwd)",
    "[x](ftp://example.com/file)",
    "<javascript:alert(1)>",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
  ])("does not make %s a link", async (text) => {
    const html = renderMarkdown(text);
    const elements = await expectInert(html);
    expect(
      elements.some((element) => element.tag === "a"),
      html,
    ).toBe(false);
  });

  it("leaves a NUL inside a scheme as a relative link, never a javascript: one", async () => {
    const html = renderMarkdown("[x](java\u0000script:alert(1))");
    const links = (await expectInert(html)).filter((element) => element.tag === "a");
    expect(links.map((link) => link.attributes.href)).toEqual(["java%EF%BF%BDscript:alert(1)"]);
  });

  it("links http(s), mailto and relative URLs, with rel=nofollow noopener", async () => {
    const html = renderMarkdown(
      "[site](https://example.com/a?b=1&c=2) [plain](http://example.com) [mail](mailto:a@example.com) [docs](/v2/) [frag](#usage) <https://example.org>",
    );
    const links = (await expectInert(html)).filter((element) => element.tag === "a");
    expect(links.map((link) => link.attributes.href)).toEqual([
      "https://example.com/a?b=1&amp;c=2",
      "http://example.com",
      "mailto:a@example.com",
      "/v2/",
      "#usage",
      "https://example.org",
    ]);
    for (const link of links) expect(link.attributes.rel).toBe("nofollow noopener");
  });

  it("keeps an attribute injection in a link title inside the title", async () => {
    const html = renderMarkdown(
      `[x](https://example.com "a\\" onmouseover=\\"alert(1)") [y](https://example.com 'b" onclick="alert(2)')`,
    );
    const links = (await expectInert(html)).filter((element) => element.tag === "a");
    expect(links).toHaveLength(2);
    expect(links[0]?.attributes).toEqual({
      href: "https://example.com",
      title: "a&quot; onmouseover=&quot;alert(1)",
      rel: "nofollow noopener",
    });
    expect(links[1]?.attributes.title).toBe("b&quot; onclick=&quot;alert(2)");
  });

  it("keeps an attribute injection in a link URL inside the href", async () => {
    const html = renderMarkdown('[x](https://example.com/"onmouseover="alert(1))');
    const links = (await expectInert(html)).filter((element) => element.tag === "a");
    expect(links).toHaveLength(1);
    expect(Object.keys(links[0]?.attributes ?? {}).sort()).toEqual(["href", "rel"]);
  });

  it("shows images as their alt text, loading nothing", async () => {
    const html = renderMarkdown("![logo <b>](https://tracker.example/pixel.png) and ![](/local.png)");
    expect(html).toBe("<p>logo &lt;b&gt; and </p>\n");
    await expectInert(html);
  });

  it("cuts input at the catalog's limit", () => {
    const html = renderMarkdown(`${"a".repeat(MAX_MARKDOWN_INPUT)}TAIL`);
    expect(html).toBe(`<p>${"a".repeat(MAX_MARKDOWN_INPUT)}</p>\n`);
    // Not half of a surrogate pair at the cut.
    const emoji = renderMarkdown(`${"a".repeat(MAX_MARKDOWN_INPUT - 1)}😀`);
    expect(emoji).toBe(`<p>${"a".repeat(MAX_MARKDOWN_INPUT - 1)}</p>\n`);
  });

  it.each([
    ["nested quotes", ">".repeat(100_000)],
    ["nested lists", Array.from({ length: 5_000 }, (_, depth) => `${"  ".repeat(depth)}- item`).join("\n")],
    ["open brackets", "[".repeat(100_000)],
    ["emphasis delimiters", "*a_".repeat(50_000)],
    ["backticks", "`a``".repeat(50_000)],
    ["link openers", "[a](".repeat(50_000)],
    ["entities", "&amp;".repeat(50_000)],
  ])("renders very long input (%s) quickly and inertly", async (_what, text) => {
    const started = Date.now();
    const html = renderMarkdown(text);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(html.length).toBeLessThan(20 * MAX_MARKDOWN_INPUT);
    await expectInert(html);
  });
});
