//! Alert rules in CSV: the import (the original's `alert_conditions.csv` as is, plus optional
//! columns) and the export, which the import reads back unchanged.
