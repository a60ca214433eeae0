require "vacation-seconds";
vacation :seconds 60 "Back soon.";
