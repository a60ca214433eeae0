require "fileinto";
if header :contains ["subject", "from"] ["shipped", "carol", "release"] {
  fileinto "Archive";
}
