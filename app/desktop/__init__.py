"""Tray, notifications, URL handler, single instance."""
