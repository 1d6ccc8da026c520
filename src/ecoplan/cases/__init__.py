"""Problem clues and cases (线索 → 核实 → 整改 → 销号). Issue 7 builds the workflow on these
tables; the EI module already files ecological-land change clues (task 11.2) here."""
