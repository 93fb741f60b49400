# shellcheck shell=bash
# Sourced by every project script. The one place that says where the toolchain lives.
# After sourcing: node >= 22, pulumi (CLI + language host) and its plugins are first on PATH,
# PULUMI_HOME holds the plugins, and pulumi never tries to download anything.
ETCD_PULUMI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ETCD_PULUMI_ROOT
export ETCD_PULUMI_CACHE="${ETCD_PULUMI_CACHE:-$HOME/.cache/etcd-pulumi}"
# Versions: the npm packages in package.json must equal these.
export PULUMI_VERSION="3.259.0"
export PULUMI_COMMAND_VERSION="1.2.1"
export PULUMI_TLS_VERSION="5.5.1"
export PULUMI_RANDOM_VERSION="4.21.1"
# Language hosts for the multi-language consumers (YAML, Go); optional: their tests skip when missing.
export PULUMI_YAML_VERSION="1.38.1"
export PULUMI_LANGUAGE_GO_VERSION="$PULUMI_VERSION"
export NODE_VERSION="22.23.3"
export ETCD_VERSION_DEFAULT="3.6.16"
export ETCD_VERSION_PREVIOUS="3.5.35"
# The GitHub Actions workflow linter the unit tests run (built from the Go module proxy by setup).
export ACTIONLINT_VERSION="1.7.12"
# The S3-compatible server the backup tests run (versitygw, Apache-2.0; built from the Go module proxy by setup).
export VERSITYGW_VERSION="1.8.0"
# Where things live.
export ETCD_PULUMI_NODE_BIN="$ETCD_PULUMI_CACHE/node/node_modules/.bin"
export ETCD_PULUMI_PULUMI_BIN="$ETCD_PULUMI_CACHE/pulumi/bin"
export ETCD_RELEASES_DIR="$ETCD_PULUMI_CACHE/etcd-releases"
export PULUMI_HOME="$ETCD_PULUMI_CACHE/pulumi-home"
export ACTIONLINT_BIN="$ETCD_PULUMI_CACHE/actionlint/v$ACTIONLINT_VERSION/actionlint"
export VERSITYGW_BIN="$ETCD_PULUMI_CACHE/versitygw/v$VERSITYGW_VERSION/versitygw"
# Written by setup when the Pulumi toolchain cannot be installed here (holds the reason).
export PULUMI_UNAVAILABLE_FILE="$ETCD_PULUMI_CACHE/pulumi/UNAVAILABLE"
# Written by setup when versitygw cannot be built here (holds the reason): the S3 suites skip with it.
export VERSITYGW_UNAVAILABLE_FILE="$ETCD_PULUMI_CACHE/versitygw/UNAVAILABLE"
# Written by setup when an optional language host (yaml, go) cannot be had (one line per missing host).
export PULUMI_LANGUAGES_UNAVAILABLE_FILE="$ETCD_PULUMI_CACHE/pulumi/LANGUAGES-UNAVAILABLE"
export PATH="$ETCD_PULUMI_ROOT/node_modules/.bin:$ETCD_PULUMI_NODE_BIN:$ETCD_PULUMI_PULUMI_BIN:/usr/local/go/bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# Plugins come from PULUMI_HOME at their pinned versions, never from a binary that happens to be on PATH.
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
# `npm run build` type-checks; Pulumi's ts-node only transpiles (much faster program start).
export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY:-true}"
