/** The EWS namespaces (Messages.xsd, Types.xsd, the SOAP 1.1 envelope, MS-OXWSCDATA errors). */
export const NS = {
  soap: "http://schemas.xmlsoap.org/soap/envelope/",
  t: "http://schemas.microsoft.com/exchange/services/2006/types",
  m: "http://schemas.microsoft.com/exchange/services/2006/messages",
  e: "http://schemas.microsoft.com/exchange/services/2006/errors",
  /** SOAP Autodiscover (MS-OXWSADISC). */
  ad: "http://schemas.microsoft.com/exchange/2010/Autodiscover",
  wsa: "http://www.w3.org/2005/08/addressing",
} as const;
