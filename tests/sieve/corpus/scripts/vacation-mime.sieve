require "vacation";
vacation :mime :subject "Abwesend" text:
Content-Type: text/plain; charset=utf-8

Ich bin bis Montag nicht im Büro.
.
;
