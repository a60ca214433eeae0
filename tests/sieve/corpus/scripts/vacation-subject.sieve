require "vacation";
vacation :subject "Out of office" :days 3 "Away, back on Monday.";
