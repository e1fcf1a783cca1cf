/** Every validation rule, sorted by id. Add a rule here, document it in docs/rules.md and give it a fixture in
 * fixtures/invalid/<rule-id>.yaml (the corpus test fails otherwise). */
import type { Rule } from '../rule.js';
import { accessLogFormat } from './access-log.js';
import { exposedAdmin, invalidAddress, invalidDiscoveryUrl, invalidNameserver, invalidPort, privilegedPort, staticClusterNeedsIp } from './addresses.js';
import { invalidClusterConfig, invalidDuration, invalidEndpointWeight, invalidMetricsPath, requiredField } from './clusters.js';
import { dnsResolver } from './dns.js';
import { dialectShorthand, envoyPlacement } from './placement.js';
import { routerNotLastRule } from './http-filters.js';
import { shadowedRoute, unreachableVirtualHost } from './reachability.js';
import {
  discoveryUnknownCluster,
  loadAssignmentNameMismatch,
  rdsUnknownRouteConfig,
  referenceUnknownCluster,
  routeUnknownCluster,
  unusedCluster,
} from './references.js';
import {
  deprecatedTotalWeight,
  invalidCodec,
  invalidDomain,
  invalidRegex,
  regexUnsupportedSyntax,
  routeAction,
  routePathSpecifier,
  weightedClusterWeights,
  weightedClusterZeroWeight,
} from './routes.js';
import { tlsCertExpired, tlsCertExpiring, tlsFileInvalid, tlsFileMissing, tlsKeyMismatch } from './tls-files.js';
import {
  duplicateClusterName,
  duplicateDomain,
  duplicateListenerAddress,
  duplicateListenerName,
  duplicateRouteConfigName,
  duplicateVirtualHostName,
} from './uniqueness.js';
import { adsWithoutAdsConfig } from './xds-sources.js';

export const RULES: readonly Rule[] = (
  [
    adsWithoutAdsConfig,
    accessLogFormat,
    deprecatedTotalWeight,
    dialectShorthand,
    discoveryUnknownCluster,
    dnsResolver,
    duplicateClusterName,
    duplicateDomain,
    duplicateListenerAddress,
    duplicateListenerName,
    duplicateRouteConfigName,
    duplicateVirtualHostName,
    envoyPlacement,
    exposedAdmin,
    routerNotLastRule,
    invalidAddress,
    invalidClusterConfig,
    invalidCodec,
    invalidDiscoveryUrl,
    invalidDomain,
    invalidDuration,
    invalidEndpointWeight,
    invalidMetricsPath,
    invalidNameserver,
    invalidPort,
    invalidRegex,
    loadAssignmentNameMismatch,
    privilegedPort,
    rdsUnknownRouteConfig,
    referenceUnknownCluster,
    regexUnsupportedSyntax,
    requiredField,
    routeAction,
    routePathSpecifier,
    routeUnknownCluster,
    shadowedRoute,
    staticClusterNeedsIp,
    tlsCertExpired,
    tlsCertExpiring,
    tlsFileInvalid,
    tlsFileMissing,
    tlsKeyMismatch,
    unreachableVirtualHost,
    unusedCluster,
    weightedClusterWeights,
    weightedClusterZeroWeight,
  ] as Rule[]
)
  // Code-unit order, not localeCompare: the ids are ASCII, and the first localeCompare builds an ICU collator (~10 ms of
  // every `meshctl validate` start-up).
  .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

export const RULES_BY_ID: ReadonlyMap<string, Rule> = new Map(RULES.map((r) => [r.id, r]));
