/**
 * Found item 3: docker-compose.yml needs no Let's Encrypt mount (ACME is
 * built in), publishes 80/443 for the challenges, and the image has a
 * HEALTHCHECK that works: its exact command, pointed at a test server's HTTP
 * port, succeeds while the server runs and fails once it stopped.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, run } from "../helpers/proc.ts";
import { startTestServer } from "../helpers/server.ts";

const compose = readFileSync(join(REPO_ROOT, "docker-compose.yml"), "utf8");
const dockerfile = readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8");

describe("docker-compose.yml", () => {
  test("parses (python3 yaml when present, else a structural check); ACME on, no certificate mount, ports 80 and 443", async () => {
    const py = `import sys, json
try:
    import yaml
except ImportError:
    print("NO-YAML"); sys.exit(0)
print(json.dumps(yaml.safe_load(sys.stdin.read())))`;
    const r = await run("python3", ["-c", py], { input: compose });
    expect(r.code).toBe(0);
    let svc: { environment: Record<string, string>; volumes: string[]; ports: string[] };
    if (r.stdout.trim() === "NO-YAML") {
      // Structural: the keys we rely on, at the indentation compose expects.
      expect(compose).toMatch(/^services:\n  pillarbox:\n/m);
      svc = {
        environment: Object.fromEntries([...compose.matchAll(/^ {6}(PILLARBOX_[A-Z_]+): "?([^"\n]+)"?$/gm)].map((m) => [m[1]!, m[2]!])),
        volumes: [...compose.matchAll(/^ {6}- (\S+:\/\S*)$/gm)].map((m) => m[1]!),
        ports: [...compose.matchAll(/^ {6}- "(\d+:\d+)"/gm)].map((m) => m[1]!),
      };
    } else svc = (JSON.parse(r.stdout) as { services: { pillarbox: typeof svc } }).services.pillarbox;
    expect(svc.environment["PILLARBOX_ACME"]).toBe("on");
    expect(svc.volumes).toEqual(["pillarbox-data:/data"]);
    expect(compose).not.toMatch(/^\s*-\s*\/etc\/letsencrypt/m);
    expect(svc.ports).toContain("80:80");
    expect(svc.ports).toContain("443:443");
  });
});

describe("Dockerfile HEALTHCHECK", () => {
  const m = /^HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])$/m.exec(dockerfile);
  test("is declared in exec form", () => {
    expect(m).not.toBeNull();
    const argv = JSON.parse(m![1]!) as string[];
    expect(argv.slice(0, 2)).toEqual(["bash", "-c"]);
  });

  test("its command succeeds against a running server's /healthz and fails once it stopped", async () => {
    const argv = JSON.parse(m![1]!) as string[];
    const srv = await startTestServer({ listeners: ["HTTP"] });
    const script = argv[2]!.replace("/dev/tcp/127.0.0.1/80", `/dev/tcp/127.0.0.1/${srv.port("HTTP")}`);
    expect(script).toContain(`/dev/tcp/127.0.0.1/${srv.port("HTTP")}`);
    try {
      expect((await run("bash", ["-c", script])).code).toBe(0);
      const body = await fetch(`http://127.0.0.1:${srv.port("HTTP")}/healthz`);
      expect(body.status).toBe(200);
      expect(await body.text()).toBe("ok\n");
    } finally {
      await srv.close();
    }
    expect((await run("bash", ["-c", script])).code).not.toBe(0);
  }, 30_000);
});
