/**
 * Provision (MS-ASPROV §3.2.5.1): the two-phase policy download and
 * acknowledgement, and remote wipe.
 *
 *  1. device: Policies/Policy/PolicyType  -> server: the EASProvisionDoc and
 *     a temporary PolicyKey (or RemoteWipe when a wipe is pending);
 *  2. device: the temporary key + Status  -> server: the final PolicyKey,
 *     which the device then sends in X-MS-PolicyKey on every command.
 *
 * Pillarbox's policy is permissive (it manages mail, not phones); accounts
 * whose settings say `easPolicy: "none"` get "no policy" (Policy Status 2)
 * and are never asked to provision.
 */
import { randomInt } from "node:crypto";
import type { Account } from "../../../../storage/api.ts";
import type { CommandHandler } from "../context.ts";
import { el, kid, kidText, ns, type WElement } from "../wbxml/tree.ts";
import { applyDeviceInformation } from "./settings.ts";

const P = ns("Provision");
export const POLICY_TYPE = "MS-EAS-Provisioning-WBXML";

/** Whether commands require a provisioned policy key (default yes). */
export function policyRequired(account: Account): boolean {
  return account.settings.easPolicy !== "none";
}

/** A new policy key: a non-zero 32-bit value (MS-ASPROV §2.2.2.42: unsigned 32-bit, 0 means "none"). */
export function newPolicyKey(): number {
  return randomInt(1, 0xffffffff);
}

/** The permissive policy (MS-ASPROV EASProvisionDoc); elements per protocol 12.1+. */
export function provisionDoc(): WElement {
  const v: [string, string | number][] = [
    ["DevicePasswordEnabled", 0],
    ["AlphanumericDevicePasswordRequired", 0],
    ["RequireStorageCardEncryption", 0],
    ["PasswordRecoveryEnabled", 0],
    ["AttachmentsEnabled", 1],
    ["AllowSimpleDevicePassword", 1],
    ["AllowStorageCard", 1],
    ["AllowCamera", 1],
    ["RequireDeviceEncryption", 0],
    ["AllowUnsignedApplications", 1],
    ["AllowUnsignedInstallationPackages", 1],
    ["AllowWiFi", 1],
    ["AllowTextMessaging", 1],
    ["AllowPOPIMAPEmail", 1],
    ["AllowBluetooth", 2],
    ["AllowIrDA", 1],
    ["RequireManualSyncWhenRoaming", 0],
    ["AllowDesktopSync", 1],
    ["MaxCalendarAgeFilter", 0],
    ["AllowHTMLEmail", 1],
    ["MaxEmailAgeFilter", 0],
    ["MaxEmailBodyTruncationSize", -1],
    ["MaxEmailHTMLBodyTruncationSize", -1],
    ["RequireSignedSMIMEMessages", 0],
    ["RequireEncryptedSMIMEMessages", 0],
    ["RequireSignedSMIMEAlgorithm", 0],
    ["RequireEncryptionSMIMEAlgorithm", 0],
    ["AllowSMIMEEncryptionAlgorithmNegotiation", 2],
    ["AllowSMIMESoftCerts", 1],
    ["AllowBrowser", 1],
    ["AllowConsumerEmail", 1],
    ["AllowRemoteDesktop", 1],
    ["AllowInternetSharing", 1],
  ];
  return P("EASProvisionDoc", v.map(([k, val]) => P(k, String(val))));
}

export const provision: CommandHandler = async (c, doc) => {
  const dev = c.device;
  const root = doc!;
  const deviceInfo = kid(root, "Settings:DeviceInformation");
  const infoStatus = deviceInfo ? await applyDeviceInformation(c, deviceInfo) : null;
  const infoEl = infoStatus !== null ? el("Settings:DeviceInformation", el("Settings:Status", infoStatus)) : null;

  // Remote wipe acknowledgement (MS-ASPROV remote wipe directive).
  const wipeAck = kid(root, "Provision:RemoteWipe") ?? kid(root, "Provision:AccountOnlyRemoteWipe");
  if (wipeAck) {
    if (dev.wipeStatus === "pending" || dev.wipeStatus === "account-pending" || dev.wipeStatus === "requested" || dev.wipeStatus === "account-requested") {
      await c.eas.updateDevice(dev.pk, { wipeStatus: "wiped", wipedAt: c.now(), policyKey: null, pendingPolicyKey: null });
      c.log.info("eas: device confirmed remote wipe", { device: dev.deviceId, account: c.account.email, status: kidText(wipeAck, "Provision:Status") });
    }
    return { wbxml: P("Provision", P("Status", "1")) };
  }

  const policyEl = kid(kid(root, "Provision:Policies"), "Provision:Policy");
  if (!policyEl) return { wbxml: P("Provision", infoEl, P("Status", "2")) };
  const type = kidText(policyEl, "Provision:PolicyType") ?? "";
  if (type !== POLICY_TYPE) {
    // MS-ASPROV §2.2.2.54.1 Policy Status 3: unknown PolicyType.
    return { wbxml: P("Provision", infoEl, P("Status", "1"), P("Policies", P("Policy", P("PolicyType", type), P("Status", "3")))) };
  }

  const wipe = dev.wipeStatus === "requested" || dev.wipeStatus === "pending" ? "full" : dev.wipeStatus === "account-requested" || dev.wipeStatus === "account-pending" ? "account" : null;
  const ackKey = kidText(policyEl, "Provision:PolicyKey");
  if (ackKey === undefined || wipe) {
    // Phase 1: hand out the policy (or the wipe order) with a temporary key.
    if (!policyRequired(c.account) && !wipe) {
      return { wbxml: P("Provision", infoEl, P("Status", "1"), P("Policies", P("Policy", P("PolicyType", type), P("Status", "2")))) };
    }
    const temp = newPolicyKey();
    await c.eas.updateDevice(dev.pk, { pendingPolicyKey: temp, ...(wipe ? { wipeStatus: wipe === "full" ? "pending" : "account-pending" } : {}) });
    const wipeEl = wipe === "full" ? P("RemoteWipe") : wipe === "account" ? (c.version >= 161 ? P("AccountOnlyRemoteWipe") : P("RemoteWipe")) : null;
    if (wipe) c.log.info("eas: sending remote wipe", { device: dev.deviceId, account: c.account.email, kind: wipe });
    return {
      wbxml: P(
        "Provision",
        infoEl,
        P("Status", "1"),
        wipeEl,
        !wipe && P("Policies", P("Policy", P("PolicyType", type), P("Status", "1"), P("PolicyKey", String(temp)), P("Data", provisionDoc()))),
      ),
    };
  }

  // Phase 2: the device acknowledges the temporary key.
  const clientStatus = kidText(policyEl, "Provision:Status") ?? "1";
  if (dev.pendingPolicyKey === null || ackKey !== String(dev.pendingPolicyKey)) {
    // MS-ASPROV §2.2.2.54.1 Policy Status 5: the client is acknowledging the wrong policy key.
    return { wbxml: P("Provision", infoEl, P("Status", "1"), P("Policies", P("Policy", P("PolicyType", type), P("Status", "5")))) };
  }
  const final = newPolicyKey();
  await c.eas.updateDevice(dev.pk, { policyKey: final, pendingPolicyKey: null });
  c.log.info("eas: device provisioned", { device: dev.deviceId, account: c.account.email, clientStatus });
  return { wbxml: P("Provision", infoEl, P("Status", "1"), P("Policies", P("Policy", P("PolicyType", type), P("Status", "1"), P("PolicyKey", String(final))))) };
};
