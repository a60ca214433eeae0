require ["vacation", "variables"];
if header :matches "subject" "*" { set "subj" "${1}"; }
vacation :subject "Re: ${subj}" "Away.";
