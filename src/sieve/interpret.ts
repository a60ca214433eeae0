/**
 * The Sieve interpreter: runs a compiled script (./compile.ts) over one
 * message for one recipient and says what to do with it (a SieveOutcome,
 * src/sieve/types.ts). It does no I/O of its own: mailbox, metadata and
 * duplicate questions go through `input.lookup`, and the delivery filter
 * (src/delivery/sieve-filter.ts) carries the actions out.
 *
 * Control (RFC 5228 §3): if/elsif/else, stop, require (checked at compile
 * time). Tests are in ./interpret-tests.ts, actions in ./interpret-actions.ts.
 *
 * Errors (RFC 5228 §2.10.6): a runtime error (a limit passed, conflicting
 * actions, a fileinto into a missing mailbox, an invalid address made by
 * variables) stops the run; the outcome then has `error`, the actions that
 * ran before it, and implicitKeep true, so the message is never lost.
 * runSieve never throws, whatever the message bytes: an unexpected
 * exception is reported as an error the same way.
 */
import type { CompiledScript, SieveCommand, SieveOutcome, SieveRunInput } from "./types.ts";
import { RunState, SieveRuntimeError, StopRun } from "./interpret-state.ts";
import { evalTest } from "./interpret-tests.ts";
import { runAction } from "./interpret-actions.ts";
import { storableFlags } from "./flags.ts";
import { SieveVariableError } from "./variables.ts";

export async function runSieve(script: CompiledScript, input: SieveRunInput): Promise<SieveOutcome> {
  let st: RunState;
  try {
    st = new RunState(script, input, performance.now());
  } catch (e) {
    return { actions: [], implicitKeep: true, implicitKeepFlags: [], error: { line: 0, message: `the run could not start: ${describe(e)}` } };
  }
  let error: SieveOutcome["error"];
  try {
    await runBlock(st, script.commands);
  } catch (e) {
    if (e instanceof StopRun) {
      // RFC 5228 §3.3: stop ends the script; what ran so far stands
    } else if (e instanceof SieveRuntimeError) error = { line: e.line, message: e.message };
    else if (e instanceof SieveVariableError) error = { line: 0, message: e.message };
    else error = { line: 0, message: `internal error while running the script: ${describe(e)}` };
  }
  return outcome(st, error);
}

function outcome(st: RunState, error: SieveOutcome["error"]): SieveOutcome {
  let implicitKeepFlags: string[] = [];
  try {
    // RFC 5232 §3: the implicit keep files with the internal flags variable as it ends. After
    // an error the message is kept plain: Pigeonhole's failure keep carries no side effects.
    implicitKeepFlags = st.imap4flags && !error ? storableFlags(st.flags) : [];
  } catch {
    implicitKeepFlags = [];
  }
  // RFC 5228 §2.10.3: the implicit keep is a keep, so a store into INBOX that a :copy left
  // standing already is it (`fileinto :copy "INBOX";` stores once, as in Pigeonhole).
  const inboxStored = st.actions.some((a) => a.type === "keep" || (a.type === "fileinto" && a.mailbox === "INBOX"));
  const out: SieveOutcome = {
    actions: st.actions,
    // RFC 5228 §2.10.6: after an error the implicit keep applies whatever ran before
    implicitKeep: error ? true : st.implicitKeep && !inboxStored,
    implicitKeepFlags,
  };
  if (st.view.edited) {
    try {
      out.message = st.view.bytes();
    } catch {
      // the edited copy could not be built: the original bytes are kept
    }
  }
  if (error) out.error = error;
  return out;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs a block: if/elsif/else chains (RFC 5228 §3.1), then each command in order. */
async function runBlock(st: RunState, commands: readonly SieveCommand[]): Promise<void> {
  // Whether the current if/elsif chain already ran a branch (null: no chain open).
  let chainTaken: boolean | null = null;
  for (const cmd of commands) {
    st.step(cmd.line);
    switch (cmd.name) {
      case "if":
        chainTaken = await branch(st, cmd);
        continue;
      case "elsif":
        if (chainTaken === false) chainTaken = await branch(st, cmd);
        continue;
      case "else":
        if (chainTaken === false && cmd.block) await runBlock(st, cmd.block);
        chainTaken = null;
        continue;
    }
    chainTaken = null;
    switch (cmd.name) {
      case "require":
        continue; // RFC 5228 §3.2: checked when the script was compiled
      case "stop":
        throw new StopRun();
      default:
        if (!(await runAction(st, cmd))) throw new SieveRuntimeError(cmd.line, `unknown command "${cmd.name}"`);
    }
  }
}

/** An if/elsif: evaluates the test and runs the block when it holds; says whether it did. */
async function branch(st: RunState, cmd: SieveCommand): Promise<boolean> {
  if (!cmd.test) throw new SieveRuntimeError(cmd.line, `${cmd.name} without a test`);
  if (!(await evalTest(st, cmd.test))) return false;
  if (cmd.block) await runBlock(st, cmd.block);
  return true;
}
