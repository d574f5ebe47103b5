// Decision records land with issue 6.
