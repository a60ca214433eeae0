/**
 * Seeded random contacts, tasks and ResolveNames entries (field names the
 * schema has and some it has not, values with control characters, markup,
 * long and empty text, odd keys and dates): every request gets a response
 * message with a ResponseCode (never a fault, an HTTP 500 or a hang), and
 * what was accepted reads back over GetItem.
 */
import { expect, test } from "bun:test";
import { mulberry32 } from "../../scripts/bench/lib/prng.ts";
import { ewsFixture, find, responseCodes } from "./helpers.ts";
import { createItemXml, firstItemId, getItemXml, messages } from "./contacts-helpers.ts";

const ALICE = "alice@example.test";
const PASS = "alice-password-1";
const { env } = ewsFixture({ users: [{ email: ALICE, pass: PASS }] });

const rnd = mulberry32(20261207);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function value(): string {
  const kinds = [
    () => "plain text",
    () => "",
    () => "x".repeat(Math.floor(rnd() * 20000)),
    () => "tab\tand\nnew\r\nlines",
    () => "<b>markup</b> & ; , : \\ \"quotes\"",
    () => "ünïcödé ✓ 🙂",
    () => "2027-13-45T99:99:99Z",
    () => "1999-12-31T23:59:59Z",
    () => "a@b@c",
    () => "someone@example.test",
    () => "-1",
    () => "100000",
    () => "true",
    () => String.fromCharCode(...Array.from({ length: 8 }, () => Math.floor(rnd() * 0xd7ff) + 1)).replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, "?"),
  ];
  return escapeXml(pick(kinds)());
}

const CONTACT_FIELDS = ["DisplayName", "GivenName", "Surname", "MiddleName", "Nickname", "CompanyName", "JobTitle", "Department", "Birthday", "WeddingAnniversary", "Generation", "SpouseName", "Manager", "AssistantName", "BusinessHomePage", "OfficeLocation", "Initials", "Profession", "Subject", "Sensitivity", "Importance", "NotAField", "ReminderIsSet"];
const KEYS = { EmailAddresses: ["EmailAddress1", "EmailAddress2", "EmailAddress3", "EmailAddress4", ""], PhoneNumbers: ["MobilePhone", "HomePhone", "BusinessFax", "Telex", "Nope"], ImAddresses: ["ImAddress1", "ImAddress9"] } as const;

function randomContact(): string {
  const parts: string[] = [];
  const n = Math.floor(rnd() * 8);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.5) {
      const f = pick(CONTACT_FIELDS);
      parts.push(`<t:${f}>${value()}</t:${f}>`);
    } else if (r < 0.8) {
      const list = pick(Object.keys(KEYS)) as keyof typeof KEYS;
      parts.push(`<t:${list}><t:Entry Key="${pick(KEYS[list])}">${value()}</t:Entry></t:${list}>`);
    } else if (r < 0.9) {
      const part = pick(["Street", "City", "State", "CountryOrRegion", "PostalCode", "Planet"]);
      parts.push(`<t:PhysicalAddresses><t:Entry Key="${pick(["Home", "Business", "Other", "Mars"])}"><t:${part}>${value()}</t:${part}></t:Entry></t:PhysicalAddresses>`);
    } else {
      parts.push(`<t:Categories>${Array.from({ length: Math.floor(rnd() * 5) }, () => `<t:String>${value()}</t:String>`).join("")}</t:Categories>`);
    }
  }
  return `<t:Contact>${parts.join("")}</t:Contact>`;
}

const TASK_FIELDS = ["Subject", "Status", "PercentComplete", "DueDate", "StartDate", "Importance", "Sensitivity", "ReminderIsSet", "ReminderDueBy", "CompleteDate", "Owner", "Mileage"];
const TASK_VALUES: Record<string, string[]> = { Status: ["NotStarted", "InProgress", "Completed", "WaitingOnOthers", "Deferred", "Lost"], PercentComplete: ["0", "50", "100", "101", "-5", "abc", "33.3"], Importance: ["Low", "Normal", "High", "Urgent"], Sensitivity: ["Normal", "Private", "Secret"] };

function randomTask(): string {
  const parts = Array.from({ length: Math.floor(rnd() * 6) }, () => {
    const f = pick(TASK_FIELDS);
    const v = TASK_VALUES[f] && rnd() < 0.8 ? pick(TASK_VALUES[f]!) : value();
    return `<t:${f}>${v}</t:${f}>`;
  });
  if (rnd() < 0.3) {
    const pat = pick(["WeeklyRecurrence", "DailyRecurrence", "AbsoluteMonthlyRecurrence", "Bogus"]);
    const range = pick(["NoEndRecurrence", "NumberedRecurrence", "EndDateRecurrence"]);
    parts.push(
      `<t:Recurrence><t:${pat}><t:Interval>${pick(["1", "0", "1000", "x"])}</t:Interval><t:DaysOfWeek>${pick(["Monday", "Weekday", "Noday", ""])}</t:DaysOfWeek><t:DayOfMonth>${pick(["1", "31", "32"])}</t:DayOfMonth></t:${pat}>` +
        `<t:${range}><t:StartDate>${pick(["2027-01-01", "2027-02-30", "soon"])}</t:StartDate><t:NumberOfOccurrences>${pick(["3", "0", "100000"])}</t:NumberOfOccurrences><t:EndDate>${pick(["2026-01-01", "2028-01-01"])}</t:EndDate></t:${range}></t:Recurrence>`,
    );
  }
  return `<t:Task>${parts.join("")}</t:Task>`;
}

/** Every answer is a response message with a code; an accepted item reads back. */
async function check(folder: string, itemXml: string): Promise<string> {
  const r = await env.call(ALICE, PASS, createItemXml(folder, itemXml));
  if (r.status !== 200) throw new Error(`HTTP ${r.status} for ${itemXml.slice(0, 300)}: ${r.text.slice(0, 300)}`);
  const codes = responseCodes(r.body);
  expect(codes.length).toBe(1);
  expect(codes[0]).not.toBe("ErrorInternalServerError");
  if (codes[0] === "NoError") {
    const id = firstItemId(r.body);
    const g = await env.call(ALICE, PASS, getItemXml([id]));
    expect(responseCodes(g.body)).toEqual(["NoError"]);
    expect(find(messages(g.body)[0], "Items")!.children.length).toBe(1);
  }
  return codes[0]!;
}

test("150 random contacts: a ResponseCode each, never an internal error; accepted ones read back", async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 150; i++) seen.add(await check("contacts", randomContact()));
  expect(seen.has("NoError")).toBe(true);
  expect(seen.size).toBeGreaterThan(1);
}, 50_000);

test("150 random tasks: a ResponseCode each, never an internal error; accepted ones read back", async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 150; i++) seen.add(await check("tasks", randomTask()));
  expect(seen.has("NoError")).toBe(true);
  expect(seen.size).toBeGreaterThan(1);
}, 50_000);

test("100 random ResolveNames entries: one response message each", async () => {
  for (let i = 0; i < 100; i++) {
    const entry = value().slice(0, 400);
    const scope = pick(["ActiveDirectory", "Contacts", "ActiveDirectoryContacts", "ContactsActiveDirectory"]);
    const r = await env.call(ALICE, PASS, `<m:ResolveNames ReturnFullContactData="${pick(["true", "false"])}" SearchScope="${scope}"><m:UnresolvedEntry>${entry}</m:UnresolvedEntry></m:ResolveNames>`);
    expect(r.status).toBe(200);
    expect(["NoError", "ErrorNameResolutionNoResults", "ErrorNameResolutionMultipleResults"]).toContain(responseCodes(r.body)[0]!);
  }
}, 30_000);

const PATHS = [
  `<t:FieldURI FieldURI="contacts:GivenName"/>`,
  `<t:FieldURI FieldURI="contacts:DisplayName"/>`,
  `<t:FieldURI FieldURI="contacts:Birthday"/>`,
  `<t:FieldURI FieldURI="item:Body"/>`,
  `<t:FieldURI FieldURI="item:Categories"/>`,
  `<t:FieldURI FieldURI="message:IsRead"/>`,
  `<t:FieldURI FieldURI="contacts:Bogus"/>`,
  `<t:IndexedFieldURI FieldURI="contacts:EmailAddress" FieldIndex="EmailAddress2"/>`,
  `<t:IndexedFieldURI FieldURI="contacts:PhoneNumber" FieldIndex="${pick(["MobilePhone", "Telex", "Nope"])}"/>`,
  `<t:IndexedFieldURI FieldURI="contacts:PhysicalAddress:City" FieldIndex="${pick(["Home", "Moon"])}"/>`,
  `<t:ExtendedFieldURI PropertyTag="0x3a45" PropertyType="String"/>`,
];

test("100 random UpdateItem change sets on one contact: a ResponseCode each, the contact stays readable", async () => {
  const made = await env.call(ALICE, PASS, createItemXml("contacts", `<t:Contact><t:DisplayName>Fuzz Target</t:DisplayName></t:Contact>`));
  const id = firstItemId(made.body).id;
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const changes = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => {
      const path = pick(PATHS);
      if (rnd() < 0.3) return `<t:DeleteItemField>${path}</t:DeleteItemField>`;
      const inner = rnd() < 0.5 ? randomContact().slice("<t:Contact>".length, -"</t:Contact>".length) : `<t:GivenName>${value()}</t:GivenName>`;
      return `<t:SetItemField>${path}<t:Contact>${inner}</t:Contact></t:SetItemField>`;
    }).join("");
    const r = await env.call(ALICE, PASS, `<m:UpdateItem ConflictResolution="AlwaysOverwrite"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}"/><t:Updates>${changes}</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`);
    expect(r.status).toBeLessThan(500);
    const code = r.status === 200 ? responseCodes(r.body)[0]! : `HTTP ${r.status}`;
    expect(code).not.toBe("ErrorInternalServerError");
    seen.add(code);
  }
  expect(seen.has("NoError")).toBe(true);
  const g = await env.call(ALICE, PASS, getItemXml([{ id }]));
  expect(responseCodes(g.body)).toEqual(["NoError"]);
}, 50_000);
