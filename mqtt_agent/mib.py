"""Object identifiers and enumerations of the MIBs the agent reads.

Printer-MIB (RFC 3805) and IANA-PRINTER-MIB, Host Resources MIB (RFC 2790), SNMPv2-MIB, IF-MIB.
Only what the agent reads is listed. OIDs are dotted strings without a leading dot; table
columns are given without the instance suffix.
"""

from __future__ import annotations

# --- SNMPv2-MIB / IF-MIB scalars -------------------------------------------------------------
SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYS_LOCATION = "1.3.6.1.2.1.1.6.0"
IF_PHYS_ADDRESS = "1.3.6.1.2.1.2.2.1.6"  # column; instance = ifIndex

# --- HOST-RESOURCES-MIB ----------------------------------------------------------------------
HR_DEVICE_TYPE = "1.3.6.1.2.1.25.3.2.1.2"
HR_DEVICE_DESCR = "1.3.6.1.2.1.25.3.2.1.3"
HR_DEVICE_STATUS = "1.3.6.1.2.1.25.3.2.1.5"
HR_PRINTER_STATUS = "1.3.6.1.2.1.25.3.5.1.1"
HR_PRINTER_ERROR_STATE = "1.3.6.1.2.1.25.3.5.1.2"
HR_DEVICE_PRINTER = "1.3.6.1.2.1.25.3.1.5"  # value of hrDeviceType for a printer

# --- Printer-MIB ------------------------------------------------------------------------------
PRINTER_MIB = "1.3.6.1.2.1.43"
PRT_GENERAL_CONFIG_CHANGES = "1.3.6.1.2.1.43.5.1.1.1"
PRT_GENERAL_PRINTER_NAME = "1.3.6.1.2.1.43.5.1.1.16"
PRT_GENERAL_SERIAL_NUMBER = "1.3.6.1.2.1.43.5.1.1.17"
PRT_ALERT_CRITICAL_EVENTS = "1.3.6.1.2.1.43.5.1.1.18"
PRT_ALERT_ALL_EVENTS = "1.3.6.1.2.1.43.5.1.1.19"
PRT_LOCALIZATION_CHARSET = "1.3.6.1.2.1.43.7.1.1.4"

# prtInputTable (43.8.2.1.<column>.<hrDeviceIndex>.<prtInputIndex>)
PRT_INPUT_TYPE = "1.3.6.1.2.1.43.8.2.1.2"
PRT_INPUT_CAPACITY_UNIT = "1.3.6.1.2.1.43.8.2.1.8"
PRT_INPUT_MAX_CAPACITY = "1.3.6.1.2.1.43.8.2.1.9"
PRT_INPUT_CURRENT_LEVEL = "1.3.6.1.2.1.43.8.2.1.10"
PRT_INPUT_STATUS = "1.3.6.1.2.1.43.8.2.1.11"
PRT_INPUT_MEDIA_NAME = "1.3.6.1.2.1.43.8.2.1.12"
PRT_INPUT_NAME = "1.3.6.1.2.1.43.8.2.1.13"
PRT_INPUT_DESCRIPTION = "1.3.6.1.2.1.43.8.2.1.18"

# prtMarkerTable (43.10.2.1.<column>.<hrDeviceIndex>.<prtMarkerIndex>)
PRT_MARKER_COUNTER_UNIT = "1.3.6.1.2.1.43.10.2.1.3"
PRT_MARKER_LIFE_COUNT = "1.3.6.1.2.1.43.10.2.1.4"
PRT_MARKER_POWER_ON_COUNT = "1.3.6.1.2.1.43.10.2.1.5"

# prtMarkerSuppliesTable (43.11.1.1.<column>.<hrDeviceIndex>.<prtMarkerSuppliesIndex>)
PRT_SUPPLY_MARKER_INDEX = "1.3.6.1.2.1.43.11.1.1.2"
PRT_SUPPLY_COLORANT_INDEX = "1.3.6.1.2.1.43.11.1.1.3"
PRT_SUPPLY_CLASS = "1.3.6.1.2.1.43.11.1.1.4"
PRT_SUPPLY_TYPE = "1.3.6.1.2.1.43.11.1.1.5"
PRT_SUPPLY_DESCRIPTION = "1.3.6.1.2.1.43.11.1.1.6"
PRT_SUPPLY_UNIT = "1.3.6.1.2.1.43.11.1.1.7"
PRT_SUPPLY_MAX_CAPACITY = "1.3.6.1.2.1.43.11.1.1.8"
PRT_SUPPLY_LEVEL = "1.3.6.1.2.1.43.11.1.1.9"

# prtMarkerColorantTable (43.12.1.1.<column>.<hrDeviceIndex>.<prtMarkerColorantIndex>)
PRT_COLORANT_VALUE = "1.3.6.1.2.1.43.12.1.1.4"

# prtAlertTable (43.18.1.1.<column>.<hrDeviceIndex>.<prtAlertIndex>)
PRT_ALERT_SEVERITY = "1.3.6.1.2.1.43.18.1.1.2"
PRT_ALERT_TRAINING_LEVEL = "1.3.6.1.2.1.43.18.1.1.3"
PRT_ALERT_GROUP = "1.3.6.1.2.1.43.18.1.1.4"
PRT_ALERT_GROUP_INDEX = "1.3.6.1.2.1.43.18.1.1.5"
PRT_ALERT_LOCATION = "1.3.6.1.2.1.43.18.1.1.6"
PRT_ALERT_CODE = "1.3.6.1.2.1.43.18.1.1.7"
PRT_ALERT_DESCRIPTION = "1.3.6.1.2.1.43.18.1.1.8"
PRT_ALERT_TIME = "1.3.6.1.2.1.43.18.1.1.9"

# PWG Port Monitor MIB: IEEE 1284 device ID of the printer's first port.
PPM_IEEE1284_DEVICE_ID = "1.3.6.1.4.1.2699.1.2.1.2.1.1.3.1"

# --- Enumerations ------------------------------------------------------------------------------

SUPPLY_TYPES: dict[int, str] = {
    1: "other",
    2: "unknown",
    3: "toner",
    4: "wasteToner",
    5: "ink",
    6: "inkCartridge",
    7: "inkRibbon",
    8: "wasteInk",
    9: "opc",
    10: "developer",
    11: "fuserOil",
    12: "solidWax",
    13: "ribbonWax",
    14: "wasteWax",
    15: "fuser",
    16: "coronaWire",
    17: "fuserOilWick",
    18: "cleanerUnit",
    19: "fuserCleaningPad",
    20: "transferUnit",
    21: "tonerCartridge",
    22: "fuserOiler",
    23: "water",
    24: "wasteWater",
    25: "glueWaterAdditive",
    26: "wastePaper",
    27: "bindingSupply",
    28: "bandingSupply",
    29: "stitchingWire",
    30: "shrinkWrap",
    31: "paperWrap",
    32: "staples",
    33: "inserts",
    34: "covers",
    35: "matteToner",
    36: "matteInk",
}

# Supply types that are receptacles (filled during printing) even when the class column is absent.
WASTE_SUPPLY_TYPES = frozenset({4, 8, 14, 24, 26})

SUPPLY_CLASS_CONSUMED = 3
SUPPLY_CLASS_RECEPTACLE = 4

SUPPLY_UNITS: dict[int, str] = {
    1: "other",
    2: "unknown",
    3: "tenThousandthsOfInches",
    4: "micrometers",
    7: "impressions",
    8: "sheets",
    11: "hours",
    12: "thousandthsOfOunces",
    13: "tenthsOfGrams",
    14: "hundrethsOfFluidOunces",
    15: "tenthsOfMilliliters",
    16: "feet",
    17: "meters",
    18: "items",
    19: "percent",
}

CAPACITY_UNITS: dict[int, str] = {
    1: "other",
    2: "unknown",
    3: "tenThousandthsOfInches",
    4: "micrometers",
    8: "sheets",
    16: "feet",
    17: "meters",
    18: "items",
    19: "percent",
}

COUNTER_UNITS: dict[int, str] = {
    3: "tenThousandthsOfInches",
    4: "micrometers",
    5: "characters",
    6: "lines",
    7: "impressions",
    8: "sheets",
    9: "dotRow",
    11: "hours",
    16: "feet",
    17: "meters",
}

INPUT_TYPES: dict[int, str] = {
    1: "other",
    2: "unknown",
    3: "sheetFeedAutoRemovableTray",
    4: "sheetFeedAutoNonRemovableTray",
    5: "sheetFeedManual",
    6: "continuousRoll",
    7: "continuousFanFold",
    8: "sheetFeedPull",
}

HR_DEVICE_STATUS_NAMES: dict[int, str] = {
    1: "unknown",
    2: "running",
    3: "warning",
    4: "testing",
    5: "down",
}

HR_PRINTER_STATUS_NAMES: dict[int, str] = {
    1: "other",
    2: "unknown",
    3: "idle",
    4: "printing",
    5: "warmup",
}

# hrPrinterDetectedErrorState: bit 0 is the most significant bit of the first octet.
PRINTER_ERROR_BITS: tuple[str, ...] = (
    "low_paper",
    "no_paper",
    "low_toner",
    "no_toner",
    "door_open",
    "jammed",
    "offline",
    "service_requested",
    "input_tray_missing",
    "output_tray_missing",
    "marker_supply_missing",
    "output_near_full",
    "output_full",
    "input_tray_empty",
    "overdue_preventive_maintenance",
)

# Conditions that make the printer unable to print (hrDeviceStatus down(5) per RFC 2790).
BLOCKING_ERRORS = frozenset(
    {"no_paper", "no_toner", "door_open", "jammed", "offline", "marker_supply_missing", "output_full"}
)

ALERT_SEVERITIES: dict[int, str] = {
    1: "other",
    3: "critical",
    4: "warning",
    5: "warning_binary_change_event",
}

ALERT_TRAINING_LEVELS: dict[int, str] = {
    1: "other",
    2: "unknown",
    3: "untrained",
    4: "trained",
    5: "field_service",
    6: "management",
    7: "none_required",
}

# prtAlertGroup: the table a row's groupIndex points into (PrtAlertGroupTC).
ALERT_GROUPS: dict[int, str] = {
    1: "other",
    2: "unknown",
    3: "host_resources_mib_storage_table",
    4: "host_resources_mib_device_table",
    5: "general_printer",
    6: "cover",
    7: "localization",
    8: "input",
    9: "output",
    10: "marker",
    11: "marker_supplies",
    12: "marker_colorant",
    13: "media_path",
    14: "channel",
    15: "interpreter",
    16: "console_display_buffer",
    17: "console_lights",
    18: "alert",
    30: "fin_device",
    31: "fin_supply",
    32: "fin_supply_media_input",
    33: "fin_attribute",
}
ALERT_GROUP_INPUT = 8
ALERT_GROUP_SUPPLIES = 11

# prtAlertCode (PrtAlertCodeTC); the codes printers actually send.
ALERT_CODES: dict[int, str] = {
    1: "other",
    2: "unknown",
    3: "cover_open",
    4: "cover_closed",
    5: "interlock_open",
    6: "interlock_closed",
    7: "configuration_change",
    8: "jam",
    9: "subunit_missing",
    10: "subunit_life_almost_over",
    11: "subunit_life_over",
    12: "subunit_almost_empty",
    13: "subunit_empty",
    14: "subunit_almost_full",
    15: "subunit_full",
    16: "subunit_near_limit",
    17: "subunit_at_limit",
    18: "subunit_opened",
    19: "subunit_closed",
    20: "subunit_turned_on",
    21: "subunit_turned_off",
    22: "subunit_offline",
    23: "subunit_power_saver",
    24: "subunit_warming_up",
    25: "subunit_added",
    26: "subunit_removed",
    27: "subunit_resource_added",
    28: "subunit_resource_removed",
    29: "subunit_recoverable_failure",
    30: "subunit_unrecoverable_failure",
    31: "subunit_recoverable_storage_error",
    32: "subunit_unrecoverable_storage_error",
    33: "subunit_motor_failure",
    34: "subunit_memory_exhausted",
    35: "subunit_under_temperature",
    36: "subunit_over_temperature",
    37: "subunit_timing_failure",
    38: "subunit_thermistor_failure",
    501: "door_open",
    502: "door_closed",
    503: "power_up",
    504: "power_down",
    505: "printer_nms_reset",
    506: "printer_manual_reset",
    507: "printer_ready_to_print",
    801: "input_media_tray_missing",
    802: "input_media_size_change",
    803: "input_media_weight_change",
    804: "input_media_type_change",
    805: "input_media_color_change",
    806: "input_media_form_parts_change",
    807: "input_media_supply_low",
    808: "input_media_supply_empty",
    809: "input_media_change_request",
    810: "input_manual_input_request",
    811: "input_tray_position_failure",
    812: "input_tray_elevation_failure",
    813: "input_cannot_feed_size_selected",
    901: "output_media_tray_missing",
    902: "output_media_tray_almost_full",
    903: "output_media_tray_full",
    904: "output_mailbox_select_failure",
    1001: "marker_fuser_under_temperature",
    1002: "marker_fuser_over_temperature",
    1003: "marker_fuser_timing_failure",
    1004: "marker_fuser_thermistor_failure",
    1005: "marker_adjusting_print_quality",
    1101: "marker_toner_empty",
    1102: "marker_ink_empty",
    1103: "marker_print_ribbon_empty",
    1104: "marker_toner_almost_empty",
    1105: "marker_ink_almost_empty",
    1106: "marker_print_ribbon_almost_empty",
    1107: "marker_waste_toner_receptacle_almost_full",
    1108: "marker_waste_ink_receptacle_almost_full",
    1109: "marker_waste_toner_receptacle_full",
    1110: "marker_waste_ink_receptacle_full",
    1111: "marker_opc_life_almost_over",
    1112: "marker_opc_life_over",
    1113: "marker_developer_almost_empty",
    1114: "marker_developer_empty",
    1115: "marker_toner_cartridge_missing",
    1301: "media_path_media_tray_missing",
    1302: "media_path_media_tray_almost_full",
    1303: "media_path_media_tray_full",
    1304: "media_path_cannot_duplex_media_selected",
    1501: "interpreter_memory_increase",
    1502: "interpreter_memory_decrease",
    1503: "interpreter_cartridge_added",
    1504: "interpreter_cartridge_deleted",
    1505: "interpreter_resource_added",
    1506: "interpreter_resource_deleted",
    1507: "interpreter_resource_unavailable",
    1509: "interpreter_complex_page_encountered",
    1801: "alert_removal_of_binary_change_entry",
}

# Alert codes that say a supply (group 11 row) is running out or its receptacle filling up.
SUPPLY_LOW_ALERT_CODES = frozenset({10, 12, 14, 16, 1104, 1105, 1106, 1107, 1108, 1111, 1113})
SUPPLY_EMPTY_ALERT_CODES = frozenset({11, 13, 15, 17, 1101, 1102, 1103, 1109, 1110, 1112, 1114})
