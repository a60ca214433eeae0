/**
 * Progress of an import or export for a person watching: on a terminal one
 * bar redrawn in place (counts, percent, rate, ETA); otherwise (a log, a
 * pipe) a plain line every 10 seconds and at each folder change.
 */
export interface ProgressLike {
  folder: string;
  done: number;
  total: number;
  bytesDone?: number;
  bytesTotal?: number;
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "--:--";
  s = Math.round(s);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}` : `${m}:${String(sec).padStart(2, "0")}`;
}

export function createProgress(write: (s: string) => void, tty: boolean, now: () => number = Date.now) {
  const started = now();
  let lastDraw = 0;
  let lastFolder = "";
  let drawn = false;
  const line = (p: ProgressLike) => {
    const secs = (now() - started) / 1000;
    const rate = secs > 0 ? p.done / secs : 0;
    const eta = rate > 0 ? (p.total - p.done) / rate : NaN;
    const pct = p.total > 0 ? Math.min(100, Math.floor((p.done / p.total) * 100)) : 100;
    return { pct, rate, eta, secs };
  };
  return {
    update(p: ProgressLike) {
      const t = now();
      const folderChanged = p.folder !== lastFolder;
      if (!folderChanged && t - lastDraw < (tty ? 150 : 10_000) && p.done < p.total) return;
      lastDraw = t;
      lastFolder = p.folder;
      const { pct, rate, eta } = line(p);
      if (tty) {
        const width = 24;
        const fill = Math.round((pct / 100) * width);
        const bar = "#".repeat(fill) + ".".repeat(width - fill);
        const folder = p.folder.length > 24 ? "…" + p.folder.slice(-23) : p.folder;
        write(`\r\x1b[K[${bar}] ${p.done}/${p.total} ${pct}%  ${rate.toFixed(0)} msg/s  ETA ${formatDuration(eta)}  ${folder}`);
        drawn = true;
      } else {
        write(`${p.done}/${p.total} messages (${pct}%), ${rate.toFixed(0)} msg/s, ETA ${formatDuration(eta)}, folder ${p.folder}\n`);
      }
    },
    /** Ends the bar's line on a terminal. */
    end() {
      if (tty && drawn) write("\n");
    },
  };
}
