/**
 * Scenario 1: Debian's python3-caldav (0.11) as a real client, the same steps
 * against Radicale and Pillarbox (caldav_scenario.py): discovery from the
 * root URL, MKCALENDAR, a plain event, a weekly event with an EXDATE and an
 * instance moved to another day, a VTODO in a task list, a month's search
 * with expansion, update, delete, and incremental sync (sync-collection).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { assertClients, clientHome, clientSkip, DEBIAN_PYTHON, describeRun, runClient, type ClientName } from "../../helpers/dav-clients.ts";
import { RECUR_JANUARY, recurringEvent, RECUR_UID, simpleEvent, SIMPLE_UID, todo } from "./fixtures.ts";
import { onPeers, startPeers, type Peer } from "./peers.ts";

const NEEDS: ClientName[] = ["python3-caldav", "radicale"];
const SKIP = clientSkip(NEEDS);
const SCRIPT = join(import.meta.dir, "caldav_scenario.py");

type Outcome = Record<string, unknown>;

async function scenario(p: Peer): Promise<Outcome> {
  const home = clientHome();
  try {
    const r = await runClient(home, DEBIAN_PYTHON, [SCRIPT, p.rootUrl, p.user, p.password, p.caFile, p.tasks], {
      env: { EV_SIMPLE: simpleEvent(), EV_RECUR: recurringEvent(), TODO: todo() },
      timeoutMs: 30_000,
    });
    if (r.code !== 0) throw new Error(`caldav scenario on ${p.name} failed: ${describeRun(r)}`);
    return JSON.parse(r.stdout.trim().split("\n").pop()!) as Outcome;
  } finally {
    home.cleanup();
  }
}

describe.skipIf(SKIP)("python3-caldav against Radicale and Pillarbox", () => {
  let peers: Awaited<ReturnType<typeof startPeers>>;
  beforeAll(async () => {
    assertClients(NEEDS);
    peers = await startPeers();
  }, 30_000);
  afterAll(async () => {
    await peers?.close();
  });

  test("discovery, MKCALENDAR, recurring event with EXDATE and moved instance, VTODO, expand, update, delete, sync tokens", async () => {
    const { radicale: rad, pillarbox: pbx } = await onPeers(peers, scenario);
    const expected: Outcome = {
      principal_found: true,
      home_found: true,
      calendar_listed: true,
      calendar_name: "Scenario Calendar",
      sync_initial_count: 0,
      objects_after_save: 2,
      sync_after_save: { updated: 2, deleted: 0 },
      todos: ["Write the report"],
      month_expanded: RECUR_JANUARY.concat([["2026-01-08T10:00:00Z", "Simple meeting", null]]).sort((a, b) => String(a).localeCompare(String(b))),
      month_date_search: [RECUR_UID, SIMPLE_UID].sort(),
      feb_expanded: [
        ["2026-02-02T08:00:00Z", "Weekly sync", "2026-02-02T08:00:00Z"],
        ["2026-02-09T08:00:00Z", "Weekly sync", "2026-02-09T08:00:00Z"],
        ["2026-02-16T08:00:00Z", "Weekly sync", "2026-02-16T08:00:00Z"],
        ["2026-02-23T08:00:00Z", "Weekly sync", "2026-02-23T08:00:00Z"],
      ],
      server_expand_status: 207,
      updated_summary: "Simple (updated)",
      sync_after_delete: { updated: 0, deleted: 1 },
      objects_after_delete: [SIMPLE_UID],
      deleted_lookup: "not-found",
      calendar_listed_after_delete: false,
    };
    // The peer first: the expectations hold on a server nobody here wrote.
    if (rad) {
      expect(rad).toMatchObject(expected);
      // Radicale 3.1 does not implement <C:expand> (RFC 4791 §9.6.5): it returns the master with its RRULE and
      // the library expands client-side. Pillarbox must expand on the server.
      expect(rad.server_expanded).toBe(false);
    }
    if (pbx) {
      expect(pbx).toMatchObject(expected);
      expect(pbx.server_expanded).toBe(true);
      if (rad) expect({ ...pbx, server_expanded: null }).toEqual({ ...rad, server_expanded: null });
    }
  }, 60_000);
});
