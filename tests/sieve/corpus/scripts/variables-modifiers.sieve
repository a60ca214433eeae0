require ["variables", "fileinto"];
set :lower :upperfirst "name" "ARCHIVE";
fileinto "${name}";
