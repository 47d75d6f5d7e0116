/**
 * The console's section links (repositories, pull-through caches, audit trail, users), shown
 * above the registry pages and meant for the console home. Scans, lifecycle and replication
 * are per repository or image, so they are linked from those pages, not from here.
 */

export const CONSOLE_SECTIONS: readonly { href: string; label: string }[] = [
  { href: "/console", label: "Repositories" },
  { href: "/console/pull-through", label: "Pull-through caches" },
  { href: "/console/audit", label: "Audit trail" },
  { href: "/console/users", label: "Users" },
];

/** `current` is the path of the page showing it (marked for assistive technology). */
export function ConsoleNav(props: { current?: string }) {
  return (
    <nav class="console-nav" aria-label="Console">
      <ul>
        {CONSOLE_SECTIONS.map((section) => (
          <li>
            <a href={section.href} aria-current={section.href === props.current ? "page" : undefined}>
              {section.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
