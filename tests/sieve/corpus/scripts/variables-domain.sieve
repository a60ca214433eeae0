require ["variables", "fileinto"];
if address :matches "from" "*@*" { set "dom" "${2}"; }
if string :is "${dom}" "partner.test" { fileinto "Archive"; }
