/**
 * Registers every ActiveSync class with the sync engine (classes.ts): the
 * handler imports this module once. One line per class module.
 */
import "./email.ts";
import "./notes.ts";
import "./tasks.ts";
import "./contacts.ts";
import "./calendar.ts";
