/**
 * A measurement, not a test: a CalendarView over N single events (default
 * 1,000, every 3 hours from 2027-01-01) with the Default and AllProperties
 * shapes, next to the same range as a CalDAV calendar-query on the same
 * server. Run: node_modules/.bin/bun tests/ews/calendar-view-bench.ts
 * (N=5000 for more). Prints times; asserts nothing.
 */
import { createUser, startEws } from "./helpers.ts";
import { httpsRequest } from "../eas/client.ts";
async function main(): Promise<void> {
  const env = await startEws();
  const acc = await createUser(env.srv.store, "b@bench.test", "bench-pass-1");
  await env.srv.ctx.groupware.ensureDefaults(acc);
  const col = (await env.srv.ctx.groupware.getCollection(acc, "Calendar"))!;
  const N = Number(process.env.N ?? 1000);
  const base = Date.UTC(2027, 0, 1);
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const s = new Date(base + i * 3 * 3600_000);
    const f = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    const ics = `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:e${i}\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:${f(s)}\r\nDTEND:${f(new Date(s.getTime() + 3600_000))}\r\nSUMMARY:Event ${i}\r\nLOCATION:Room ${i % 10}\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:x${i}@example.org\r\nORGANIZER:mailto:b@bench.test\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;
    await env.srv.ctx.groupware.putObject(col, `e${i}.ics`, new TextEncoder().encode(ics), { schedule: false });
  }
  console.log(`seed ${N}: ${(performance.now() - t0).toFixed(0)} ms`);
  const range = ["2027-01-01T00:00:00Z", "2027-05-01T00:00:00Z"];
  for (const shape of ["Default", "AllProperties"]) {
    for (let k = 0; k < 3; k++) {
      const t1 = performance.now();
      const r = await env.call("b@bench.test", "bench-pass-1", `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>${shape}</t:BaseShape></m:ItemShape><m:CalendarView MaxEntriesReturned="5000" StartDate="${range[0]}" EndDate="${range[1]}"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>`);
      
      console.log(`EWS CalendarView ${shape}: ${(performance.now() - t1).toFixed(0)} ms, ${(r.text.match(/<t:CalendarItem>/g) ?? []).length} items, ${r.text.length} bytes`);
    }
  }
  for (let k = 0; k < 3; k++) {
    const t2 = performance.now();
    const body = `<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20270101T000000Z" end="20270501T000000Z"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`;
    const r = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "REPORT", path: "/dav/calendars/b@bench.test/Calendar/", headers: { authorization: "Basic " + Buffer.from("b@bench.test:bench-pass-1").toString("base64"), depth: "1", "content-type": "application/xml" }, body: new TextEncoder().encode(body) });
    console.log(`CalDAV calendar-query: ${(performance.now() - t2).toFixed(0)} ms, status ${r.status}, ${r.body.length} bytes`);
  }
  await env.close();
}

await main();
