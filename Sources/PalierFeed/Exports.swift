// The screen's pure rules and feed lines live in PalierScreen (no I/O); what uses the feed
// uses them through this module.
@_exported import PalierScreen
