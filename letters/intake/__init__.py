"""Files coming in: size, type, antivirus."""
