/**
 * Component nesting of iCalendar text (RFC 5545 §3.4, §3.6): every
 * "BEGIN:<name>" has its own "END:<name>", properly nested. ical.js only
 * counts BEGIN/END and accepts "END:VEVENT" closing a "BEGIN:VALARM", which
 * would store an alarm that swallowed the rest of its event; the parser and
 * the import splitter check the names first.
 */

/** The first nesting fault of `text` as a message with its line number, or null. Continuation lines (leading white space) are never markers. */
export function nestingFault(text: string): string | null {
  const stack: { name: string; line: number }[] = [];
  let lineNo = 0;
  let closedTop = false;
  for (const raw of text.split(/\r\n|\n|\r/)) {
    lineNo++;
    const m = /^(BEGIN|END):([A-Za-z0-9-]+)[ \t]*$/i.exec(raw);
    if (!m) {
      if (closedTop && raw.trim() !== "") return `line ${lineNo}: content after END:VCALENDAR`;
      continue;
    }
    const name = m[2]!.toUpperCase();
    if (m[1]!.toUpperCase() === "BEGIN") {
      if (closedTop) return `line ${lineNo}: several top-level components (one VCALENDAR per resource, RFC 4791 §4.1)`;
      stack.push({ name, line: lineNo });
      continue;
    }
    const top = stack.pop();
    if (!top) return `line ${lineNo}: END:${name} without a BEGIN`;
    if (top.name !== name) return `line ${lineNo}: END:${name} where BEGIN:${top.name} of line ${top.line} is still open`;
    if (stack.length === 0) closedTop = true;
  }
  if (stack.length) return `BEGIN:${stack[stack.length - 1]!.name} of line ${stack[stack.length - 1]!.line} is never ended`;
  return null;
}
