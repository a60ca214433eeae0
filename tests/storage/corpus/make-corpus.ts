/**
 * Writes the broken-message corpus (*.eml) next to this file. The files are
 * kept in the repository; this script documents how each was made and
 * re-creates them: `bun tests/storage/corpus/make-corpus.ts`. Large cases (huge
 * header, 2 MB line) are built in tests/storage/mime.test.ts instead of stored.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const dir = import.meta.dir;
const files: Record<string, string | Uint8Array> = {};
const latin1 = (s: string) => Uint8Array.from([...s].map((c) => c.charCodeAt(0) & 0xff));

files["empty.eml"] = "";
files["only-headers.eml"] = "From: a@b.example\r\nSubject: no body and no blank line";
files["no-separator.eml"] = "From: a@b.example\r\nSubject: missing blank line\r\nThis is body text right after the header.\r\nMore body.\r\n";
files["body-only.eml"] = "\r\nThere is no header at all, the message starts with an empty line.\r\n";
files["lf-only.eml"] = "From: a@b.example\nSubject: lf only\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nline one\nline two\n--b\nContent-Type: text/html\n\n<p>html</p>\n--b--\n";
files["cr-only.eml"] = "From: a@b.example\rSubject: cr only\rContent-Type: multipart/mixed; boundary=b\r\r--b\rContent-Type: text/plain\r\rold mac text\r--b--\r";
files["mixed-eol.eml"] = "From: a@b.example\r\nSubject: mixed\nContent-Type: multipart/alternative; boundary=\"m\"\r\n\n--m\nContent-Type: text/plain\r\n\r\nplain\r--m\r\nContent-Type: text/html\n\n<b>x</b>\n--m--";
files["missing-boundary-param.eml"] = "Subject: no boundary\r\nContent-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nbody\r\n--x--\r\n";
files["wrong-boundary.eml"] = "Subject: wrong boundary\r\nContent-Type: multipart/mixed; boundary=\"expected\"\r\n\r\n--actual\r\nContent-Type: text/plain\r\n\r\nbody\r\n--actual--\r\n";
files["no-close-delimiter.eml"] = "Subject: unterminated\r\nContent-Type: multipart/mixed; boundary=u\r\n\r\n--u\r\nContent-Type: text/plain\r\n\r\nfirst\r\n--u\r\nContent-Type: text/plain\r\n\r\nsecond, and then the message just ends";
files["nested-same-boundary.eml"] = "Subject: same boundary twice\r\nContent-Type: multipart/mixed; boundary=s\r\n\r\n--s\r\nContent-Type: multipart/alternative; boundary=s\r\n\r\n--s\r\nContent-Type: text/plain\r\n\r\ninner\r\n--s--\r\n--s--\r\n";
{
  let m = "Subject: deep nesting\r\n";
  for (let i = 0; i < 300; i++) m += `Content-Type: multipart/mixed; boundary="d${i}"\r\n\r\n--d${i}\r\n`;
  m += "Content-Type: text/plain\r\n\r\nbottom\r\n";
  for (let i = 299; i >= 0; i--) m += `--d${i}--\r\n`;
  files["deep-multipart.eml"] = m;
}
{
  let m = "";
  for (let i = 0; i < 150; i++) m += `Subject: level ${i}\r\nContent-Type: message/rfc822\r\n\r\n`;
  m += "Subject: bottom\r\n\r\nbottom body\r\n";
  files["deep-rfc822.eml"] = m;
}
files["bad-base64.eml"] = "Subject: bad base64\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8gd29y!!!bGQ*&^%\r\n===\r\nSGVsbG8=SGVsbG8\r\nQUJ";
files["bad-qp.eml"] = "Subject: bad qp\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nbroken =ZZ escape =4 and soft=\r\nbreak and =\r\n=";
files["8bit-headers.eml"] = latin1("From: J\xf6rg M\xfcller <joerg@b.example>\r\nSubject: Gr\xfc\xdfe aus K\xf6ln\r\nTo: \xe9t\xe9@c.example\r\n\r\nBody with 8-bit: \xe4\xf6\xfc\r\n");
files["utf8-headers.eml"] = "From: Jörg Müller <jörg@bü.example>\r\nSubject: 日本語の件名 and émoji 🎉\r\n\r\nUTF-8 body ✓\r\n";
files["binary-nul.eml"] = Uint8Array.from([...latin1("Subject: nul\x00bytes\r\nContent-Type: text/plain\r\n\r\nbody\x00with\x00nuls\xff\xfe\r\n")]);
files["bad-encoded-words.eml"] = "Subject: =?x-unknown-charset?B?SGVsbG8=?= =?utf-8?Q?broken_=E2=82?= =?utf-8?B?!!!?= =?utf-8?X?what?= =?=?\r\nFrom: =?utf-8?B?SsO2cmc=?= <a@b.example>\r\n\r\nbody\r\n";
files["bad-content-type.eml"] = "Subject: bad content-type\r\nContent-Type: ;;;==;boundary\r\nContent-Type: multipart/\r\nContent-Transfer-Encoding: x-weird (comment)\r\nContent-Disposition: ;filename=\r\n\r\nbody\r\n";
files["rfc2231-broken.eml"] = "Subject: 2231\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: application/octet-stream; name*0*=no-quote-here; name*2=\"gap\"; name*1*=%ZZ%41\r\nContent-Disposition: attachment; filename*=utf-8'en'%E2%82%AC%20rates.pdf; filename*=again\r\n\r\nAAAA\r\n--q--\r\n";
files["mbox-from-line.eml"] = "From sender@b.example Mon Jan  2 15:04:05 2006\r\nFrom: sender@b.example\r\nSubject: mbox style\r\n\r\nbody\r\n";
files["garbage-addresses.eml"] = "From: <<<>>> \"unterminated quote, (unterminated comment\r\nTo: ,,,;;;:::@@@\r\nCc: group: a@b.example, (c) <d@e.example> ; other: ;\r\nBcc: undisclosed-recipients:;\r\nReply-To: @route:user@host>\r\nSender: \"\" <>\r\n\r\nbody\r\n";
files["multipart-digest.eml"] = "Subject: digest\r\nContent-Type: multipart/digest; boundary=dg\r\n\r\n--dg\r\n\r\nSubject: first in digest\r\nFrom: x@y.example\r\n\r\nfirst body\r\n--dg\r\n\r\nSubject: second\r\n\r\nsecond body\r\n--dg--\r\n";
files["boundary-prefix.eml"] = "Subject: prefix\r\nContent-Type: multipart/mixed; boundary=abc\r\n\r\n--abc\r\nContent-Type: text/plain\r\n\r\nline with --abcdef which is not a delimiter\r\n--abcdef\r\nstill the first part\r\n--abc \t\r\nContent-Type: text/plain\r\n\r\nsecond part after padded delimiter\r\n--abc--\r\n";
files["base64-rfc822.eml"] = "Subject: encoded message/rfc822\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogaW5uZXINCg0KYm9keQ0K\r\n";
files["leading-continuation.eml"] = "   leading whitespace line\r\nSubject: after it\r\n\tcontinued subject\r\n\r\nbody\r\n";
files["no-headers-just-text.eml"] = "just some text without any header fields at all\nsecond line\n";
files["multipart-empty.eml"] = "Subject: empty multipart\r\nContent-Type: multipart/mixed; boundary=e\r\n\r\n--e--\r\n";
files["html-unclosed.eml"] = "Subject: html\r\nContent-Type: text/html\r\n\r\n<html><script>while(1){}<style>x<div>text &#999999999; &#x110000; &bogus; <!-- unclosed comment";

for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === "string" ? Buffer.from(content, "utf8") : content);
console.log(`wrote ${Object.keys(files).length} files to ${dir}`);
