# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command"]
RUN Invoke-WebRequest -Uri https://example.com/go.zip -OutFile go.zip ; `
    Expand-Archive go.zip -DestinationPath C:\
CMD ["cmd"]
