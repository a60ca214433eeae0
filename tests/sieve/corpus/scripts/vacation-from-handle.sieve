require "vacation";
vacation :from "alice@example.test" :handle "away-2026" :subject "Away" "Back soon.";
