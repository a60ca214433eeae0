require "reject";
if address :domain "from" "promo.test" { reject "No prizes, please."; }
