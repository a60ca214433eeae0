require ["duplicate", "variables", "fileinto"];
if address :matches "from" "*" { set "who" "${1}"; }
if duplicate :uniqueid "${who}" :handle "per-sender" { fileinto "Archive"; }
