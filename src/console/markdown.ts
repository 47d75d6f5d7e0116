/**
 * Markdown for the gallery (a repository's aboutText and usageText, written by whoever can
 * push catalog data, read by anyone): rendered to HTML that is safe to insert raw. Raw HTML in
 * the text shows as text; links may only go to http(s), mailto or this site, and carry
 * rel="nofollow noopener"; images show as their alt text, since the page's CSP loads images
 * from this origin only and a remote one would only break (or track a reader); input is cut
 * at the catalog's own limit and nesting is bounded, so one repository cannot make its page
 * expensive to render.
 */
import MarkdownIt, { type Options } from "markdown-it";

/** ECR Public's limit on aboutText and usageText; longer input is cut there. */
export const MAX_MARKDOWN_INPUT = 25_600;
/** Deeper blocks and inlines (quotes in quotes, lists in lists) are left as text. */
const MAX_NESTING = 20;
const LINK_REL = "nofollow noopener";
const ALLOWED_SCHEMES: ReadonlySet<string> = new Set(["http", "https", "mailto"]);

// maxNesting is an option of markdown-it's parsers (its presets set it) that its types leave out.
const options: Options & { maxNesting: number } = {
  html: false,
  linkify: false,
  typographer: false,
  maxNesting: MAX_NESTING,
};
const markdown = new MarkdownIt("default", options);

const validateLink = markdown.validateLink.bind(markdown);
/**
 * Called by the parser with the normalized URL of every link, autolink, reference and image;
 * a refused URL leaves the markdown as text. markdown-it's own check refuses javascript:,
 * vbscript:, file: and most data:; this allows only the schemes listed, and relative URLs.
 */
markdown.validateLink = (url: string): boolean => validateLink(url) && allowedUrl(url);

function allowedUrl(url: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url.trim());
  return scheme === null || ALLOWED_SCHEMES.has((scheme[1] ?? "").toLowerCase());
}

markdown.renderer.rules.link_open = (tokens, index, options, _env, self) => {
  tokens[index]?.attrSet("rel", LINK_REL);
  return self.renderToken(tokens, index, options);
};

markdown.renderer.rules.image = (tokens, index, options, env, self) =>
  markdown.utils.escapeHtml(self.renderInlineAsText(tokens[index]?.children ?? [], options, env));

/** The text as HTML, safe to insert into a page unescaped. */
export function renderMarkdown(text: string): string {
  let input = text.slice(0, MAX_MARKDOWN_INPUT);
  // A cut through a surrogate pair would leave half a character.
  if (/[\uD800-\uDBFF]$/.test(input)) input = input.slice(0, -1);
  return markdown.render(input);
}
