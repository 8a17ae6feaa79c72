import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { EmailStatusService, type EmailStatusView } from './email-status.service.js';

@Controller('emails')
export class EmailsController {
  constructor(private readonly emails: EmailStatusService) {}

  @Get(':emailId')
  async find(@Param('emailId') emailId: string): Promise<EmailStatusView> {
    const email = await this.emails.find(emailId);
    if (!email) {
      throw new NotFoundException(`No Keplars event has been received for email "${emailId}". Check the id: it is the email_id Keplars gave when the email was sent.`);
    }
    return email;
  }
}
