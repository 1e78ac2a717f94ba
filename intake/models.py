"""Patients, visits and their intake records."""
